"""The admin's list filters chosen by search, in a real headless Chromium on the demo data:
select2 comes up under the CSP (no inline script), answers from the admin's autocomplete, and
the chosen asset filters the work order list (issue 14 §1)."""

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


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
