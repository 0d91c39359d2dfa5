"""The planner workspace in a real headless Chromium, on the demo data: dashboard and dispatch.

Screenshots go to artifacts/screenshots/ (planner-*.png); the checks make sure the charts are
drawn (non-empty SVG shapes with a size on screen) and that the pages raise no script or CSP
error in the browser console.
"""

import pytest

# The demo data is seeded relative to now and the board shows the site's week: every test runs
# at midday and just before the site's midnight (tests.clock).
pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("site_clock"),
]


def drawn(page, selector: str) -> int:
    """How many shapes of the chart have a visible size."""
    return page.eval_on_selector_all(
        f"{selector} svg rect, {selector} svg polygon",
        "els => els.filter(e => { const b = e.getBoundingClientRect();"
        " return b.width > 0 && b.height > 0; }).length",
    )


def test_the_dashboard_draws_its_charts_from_the_demo_history(desk, screenshot):
    desk.goto("/admin/planner/?days=90")
    for section in ("#backlog", "#pm-compliance", "#planned", "#funnel", "#mttr", "#mtbf",
                    "#top-assets"):  # fmt: skip
        assert drawn(desk, section) >= 2, section
    assert desk.locator("#funnel svg polygon").count() == 3
    assert "%" in desk.inner_text("#kpi-pm")
    screenshot(desk, "planner-dashboard")
    assert desk.console_errors == []


def test_the_dispatch_board_shows_load_and_moves_work_to_a_technician(desk, screenshot):
    desk.goto("/admin/planner/dispatch/")
    board = desk.locator("#dispatch-board")
    assert board.is_visible()
    assert desk.locator("#dispatch-board tbody tr").count() == 2  # Anna and Jonas
    assert drawn(desk, "#dispatch-board") >= 14  # a load bar per technician and day
    screenshot(desk, "planner-dispatch-board")

    waiting = desk.locator("#to-dispatch .wo-card").first
    number = waiting.locator("a").first.inner_text()
    waiting.locator("summary").click()
    waiting.locator("select").select_option(label="Jonas Weber")
    waiting.locator("button:has-text('Dispatch')").click()
    desk.wait_for_selector(".messagelist")
    assert f"{number} dispatched to Jonas Weber" in desk.inner_text(".messagelist")
    assert desk.locator("#dispatch-board .wo-card", has_text=number).count() in (0, 1)
    screenshot(desk, "planner-dispatch-after-move")
    assert desk.console_errors == []


def test_the_triage_queue_lists_requests_and_unmatched_alerts(desk, screenshot):
    desk.goto("/admin/planner/triage/")
    assert desk.locator("#requests tbody tr").count() >= 2
    assert desk.locator("#unmatched tbody tr").count() == 3
    first_alert = desk.locator("#unmatched tbody tr").first
    assert "Critical" in first_alert.inner_text()
    screenshot(desk, "planner-triage")
    assert desk.console_errors == []
