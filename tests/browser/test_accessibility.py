"""axe-core on every page a technician, a customer viewer and a planner use, on the demo data.

Each test walks one role's pages and collects what axe-core (WCAG 2.1 A/AA and best practices)
rates serious or critical on each, then fails listing them all by page, so one run shows every
page that needs work. See tests/browser/pages.py `accessibility_problems`.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from assets.models import Site
from contracts.choices import ClientApproval
from contracts.models import Contract
from demo import data as demo
from monitoring.models import MonitoredMeasurement
from pm.choices import RunStatus
from pm.models import RoundRun
from tests.browser.pages import DESKTOP, accessibility_problems, log_in
from workorders.choices import OPEN_STATUSES
from workorders.models import WorkOrder

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("site_clock"),
]


@pytest.fixture
def demo_data():
    demo.seed_demo()


def check(page, path: str, found: dict) -> None:
    """Open `path` and record axe-core's blocking findings under it."""
    page.goto(path)
    page.wait_for_load_state("load")
    note(page, path, found)


def note(page, name: str, found: dict) -> None:
    problems = accessibility_problems(page)
    if problems:
        found[name] = problems


def report(found: dict) -> str:
    return "axe-core found serious or critical violations:\n" + "\n".join(
        f"{page}:\n  " + "\n  ".join(problems) for page, problems in found.items()
    )


def test_the_technician_pages_have_no_serious_accessibility_violation(demo_data, phone):
    work_order = (
        WorkOrder.objects.filter(assignee__username="anna.schmidt", status__in=OPEN_STATUSES)
        .order_by("due_at")
        .first()
    )
    asset = work_order.asset
    page = phone()
    log_in(page, "anna.schmidt", demo.DEMO_PASSWORD)
    page.wait_for_url("**/tech/")
    found = {}
    note(page, "/tech/ (my work)", found)
    check(page, f"/tech/?q={asset.tag}", found)
    check(page, work_order.get_absolute_url(), found)
    check(page, f"/tech/assets/{asset.pk}/", found)
    # An asset with trend charts (condition monitoring) at anna's plant.
    watched = MonitoredMeasurement.objects.filter(site=work_order.site).first()
    check(page, f"/tech/assets/{watched.asset_id}/", found)
    # A refused report (no title): the browser's own check is what stops it first; without it
    # the server answers with the form and its error, which must be as accessible.
    page.evaluate(
        "document.querySelectorAll('#report [required]').forEach(e => e.required = false)"
    )
    page.click("#report button[type=submit]")
    page.wait_for_selector("[role=alert]")
    note(page, f"/tech/assets/{asset.pk}/report/ (refused: no title)", found)
    check(page, "/tech/requests/new/", found)
    run = RoundRun.objects.get(assignee__username="anna.schmidt", status=RunStatus.IN_PROGRESS)
    check(page, f"/tech/rounds/{run.pk}/", found)
    assert not found, report(found)


def test_the_customer_viewer_pages_have_no_serious_accessibility_violation(demo_data, phone):
    work_order = WorkOrder.objects.filter(site__code="ber").order_by("-created_at").first()
    page = phone()
    log_in(page, "viewer.rheinwerk", demo.DEMO_PASSWORD)
    page.wait_for_url("**/tech/")
    found = {}
    note(page, "/tech/ (site work)", found)
    check(page, work_order.get_absolute_url(), found)
    waiting = WorkOrder.objects.get(site__code="ber", client_approval=ClientApproval.PENDING)
    check(page, f"/tech/work-orders/{waiting.pk}/approval/", found)
    check(page, "/reports/", found)
    check(page, f"/reports/customers/{waiting.site.customer_id}/{last_month():%Y-%m}/", found)
    assert not found, report(found)


def last_month():
    return (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)


def test_the_planner_pages_have_no_serious_accessibility_violation(
    demo_data, chromium, live_server
):
    site = Site.objects.get(code="ber")
    work_order = WorkOrder.objects.filter(site=site).order_by("-created_at").first()
    watched = MonitoredMeasurement.objects.filter(site=site, healthy_level__isnull=False).first()
    context = chromium.new_context(viewport=DESKTOP, base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/admin/login/")
    page.fill("#id_username", "planner.rheinwerk")
    page.fill("#id_password", demo.DEMO_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#planner-index")
    found = {}
    note(page, "/admin/ (admin index)", found)
    for path in (
        "/admin/planner/",
        "/admin/planner/triage/",
        f"/admin/planner/dispatch/?site={site.pk}",
        "/admin/planner/fleet/",
        f"/admin/planner/health/?customer={site.customer_id}",
        "/admin/monitoring/monitoredmeasurement/",
        "/admin/gateways/gateway/",
        "/admin/workorders/workorder/",
        f"/admin/workorders/workorder/{work_order.pk}/change/",
        "/admin/assets/asset/",
        f"/admin/assets/asset/{watched.asset_id}/change/",  # with its trend charts
        f"/admin/monitoring/monitoredmeasurement/{watched.pk}/change/",
        "/admin/contracts/contract/",
        f"/admin/contracts/contract/{Contract.objects.get(sites=site).pk}/change/",
        "/reports/billing/",
        f"/reports/billing/?customer={site.customer_id}&month={last_month():%Y-%m}",
        "/reports/costs/",
        f"/reports/customers/{site.customer_id}/{last_month():%Y-%m}/",
        f"/tech/assets/labels/?site={site.pk}",
        f"/tech/assets/{work_order.asset_id}/label/",
    ):
        check(page, path, found)
    context.close()
    assert not found, report(found)
