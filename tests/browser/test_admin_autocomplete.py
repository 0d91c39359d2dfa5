"""The admin's list filters chosen by search, in a real headless Chromium on the demo data:
select2 comes up under the CSP (no inline script), answers from the admin's autocomplete, and
the chosen asset filters the work order list (issue 14 §1)."""

import pytest

from demo import data as demo

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk(chromium, live_server):
    """A desktop-sized page, logged in to the admin as the demo planner of the Berlin plant."""
    demo.seed_demo()
    context = chromium.new_context(
        viewport={"width": 1440, "height": 900}, base_url=live_server.url
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.console_errors = []
    page.on(
        "console",
        lambda msg: (
            msg.type == "error"
            and not msg.text.startswith("Failed to load resource")
            and page.console_errors.append(msg.text)
        ),
    )
    page.goto("/admin/login/")
    page.fill("#id_username", "planner.rheinwerk")
    page.fill("#id_password", demo.DEMO_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#planner-index")
    yield page
    context.close()


def test_the_asset_subtree_filter_finds_an_asset_by_search_and_filters_by_it(desk):
    desk.goto("/admin/workorders/workorder/?status__exact=closed")
    form = desk.locator('details[data-filter-title="asset (and below)"] form')
    form.locator(".select2-selection").click()
    desk.locator(".select2-search__field").fill("L-")
    first = desk.locator(".select2-results__option", has_text="L-").first
    first.wait_for()
    chosen = first.inner_text()
    assert chosen.startswith("L-")
    first.click()
    form.locator("button[type=submit]").click()
    desk.wait_for_url("**asset_tree=*")
    assert "status__exact=closed" in desk.url  # the other filters kept
    selected = desk.locator('details[data-filter-title="asset (and below)"] .select2-selection')
    assert chosen in selected.inner_text()
    assert desk.console_errors == []
