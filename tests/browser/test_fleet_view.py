"""The planner's IIoT fleet view in a real headless Chromium, on the demo data.

The demo seeds gateways in every state (online, late, offline, never seen), a week of
connectivity events and battery samples; the page must draw its charts (non-empty, titled SVG)
and raise no script or CSP error. The screenshot goes to artifacts/screenshots/planner-fleet.png.
"""

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("site_clock"),
]

CHARTS = {
    "#fleet-status": "Gateways by status now",
    "#fleet-availability": "Availability over the last 7 days, least available first, percent",
    "#fleet-battery": "Gateways by battery level, percent",
    "#fleet-signal": "Gateways by signal strength, dBm",
    "#fleet-firmware": "Gateways by firmware version",
}


def drawn(page, selector: str) -> int:
    """How many shapes of the chart have a visible size."""
    return page.eval_on_selector_all(
        f"{selector} svg rect",
        "els => els.filter(e => { const b = e.getBoundingClientRect();"
        " return b.width > 0 && b.height > 0; }).length",
    )


def test_the_fleet_view_draws_its_charts_from_the_demo_fleet(desk, screenshot):
    desk.goto("/admin/planner/")
    desk.click("nav.planner-nav >> text=IIoT fleet")
    desk.wait_for_selector("#fleet-counts")
    for section, title in CHARTS.items():
        svg = desk.locator(f"{section} svg")
        assert svg.get_attribute("role") == "img", section
        assert svg.get_attribute("aria-label") == title, section
        assert desk.locator(f"{section} svg > title").text_content() == title
        assert drawn(desk, section) >= 1, section
    # The planner of Rheinwerk sees Berlin: two online, one offline (GW-03).
    assert desk.inner_text("#count-online strong") == "2"
    assert desk.inner_text("#count-offline strong") == "1"
    first_row = desk.locator("#fleet-gateways tbody tr").first
    assert "offline" in first_row.inner_text()
    assert "Availability = time a gateway was online or late" in desk.inner_text(
        "#fleet-availability"
    )
    screenshot(desk, "planner-fleet")
    assert desk.console_errors == []


def test_the_fleet_view_changes_period_from_its_form(desk):
    desk.goto("/admin/planner/fleet/")
    desk.select_option("#id_days", "30")
    desk.click("#fleet-filter button[type=submit]")
    desk.wait_for_selector("#fleet-availability")
    assert "last 30 days" in desk.inner_text("#fleet-availability h2")
    assert desk.console_errors == []
