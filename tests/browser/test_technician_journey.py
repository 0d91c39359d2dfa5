from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from alerts.models import Alert
from assets.models import Stock
from tests.browser.pages import log_in
from tests.clock import end_of_site_day
from tests.factories import (
    GatewayFactory,
    PartFactory,
    StockFactory,
    StoreroomFactory,
    TechnicianFactory,
    WorkOrderFactory,
    move_to,
)
from workorders import services as wo_services
from workorders.choices import Status, WorkOrderType
from workorders.models import WorkOrder

# Every test runs at midday and just before midnight at the site (tests.clock); the live server
# runs in this process and sees that clock, the browser keeps the real one (within a day).
pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("site_clock"),
]

PASSWORD = "pw-for-tests-1"
DUE_IN = timezone.timedelta(hours=2)


def my_work_section(due_at) -> str:
    """Where /tech/ lists work due at `due_at`: "today" ends at the site's midnight."""
    return "today" if due_at < end_of_site_day(timezone.now()) else "upcoming"


@pytest.fixture
def plant(site, pump, planner, codes):
    """The shared North plant (tests/world.py) with 4 bearings in store and tina's work."""
    technician = TechnicianFactory(username="tina", first_name="Tina", sites=[site])
    StockFactory(
        storeroom=StoreroomFactory(site=site, code="main"),
        part=PartFactory(sku="BRG-6205", name="Ball bearing 6205"),
        on_hand=Decimal("4"),
    )
    wo = WorkOrderFactory(
        site=site,
        asset=pump,
        type=WorkOrderType.CONDITION_BASED,
        title="High vibration on P-101",
        condition="vibration_high",
        due_at=timezone.now() + DUE_IN,
        steps=[
            "Check coupling alignment",
            {"text": "Measure bearing vibration", "requires_value": True, "unit": "mm/s"},
        ],
    )
    move_to(wo, Status.SCHEDULED)
    wo_services.work_order_assign(work_order=wo, assignee=technician)
    Alert.objects.create(
        gateway=GatewayFactory(site=site),
        site=site,
        alert_id="a-1",
        asset=pump,
        asset_tag="P-101",
        condition="vibration_high",
        severity="major",
        observed_at=timezone.now(),
        value=11.2,
        threshold=7.1,
        unit="mm/s",
        work_order=wo,
    )
    return {"site": site, "pump": pump, "wo": wo, "technician": technician, "planner": planner}


def status_text(page) -> str:
    return page.inner_text("#wo-status").strip()


def test_a_technician_executes_condition_based_work_on_a_phone(phone, screenshot, plant):
    wo = plant["wo"]
    page = phone()
    log_in(page, "tina", PASSWORD)
    page.wait_for_url("**/tech/")
    assert page.is_visible(f"#{my_work_section(wo.due_at)} >> text={wo.number}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "01-my-work")

    page.click(f"text={wo.number}")
    page.wait_for_url(f"**/tech/work-orders/{wo.pk}/")
    assert "threshold 7.1mm/s" in page.inner_text("#why")
    assert "AREA-1" in page.inner_text("#asset")
    screenshot(page, "02-work-order-scheduled")

    page.click("button:has-text('Start')")
    page.wait_for_selector("text=Started. The clock is running.")
    assert status_text(page) == "In progress"

    steps = wo.steps.order_by("position")
    page.click(f"#step-{steps[0].pk} button:has-text('Done')")
    page.wait_for_selector(f"#step-{steps[0].pk}.done")
    page.fill(f"#step-{steps[1].pk} input[name=value]", "4.2")
    page.click(f"#step-{steps[1].pk} button:has-text('Done')")
    page.wait_for_selector(f"#step-{steps[1].pk}.done")
    assert "4.2 mm/s" in page.inner_text(f"#step-{steps[1].pk}")

    page.fill("input[name=part_q]", "bearing")
    page.click("#parts button:has-text('Find')")
    page.wait_for_selector("#part-results >> text=BRG-6205")
    page.fill("#part-results input[name=quantity]", "2")
    page.click("#part-results button:has-text('Issue')")
    page.wait_for_selector("text=Part issued.")
    assert "BRG-6205" in page.inner_text("#parts")
    screenshot(page, "03-work-order-in-progress")

    page.click("summary:has-text('Pause')")
    page.fill("#id_reason", "Waiting for shutdown")
    page.click("#actions form button:has-text('Pause')")
    page.wait_for_selector("text=Paused.")
    assert status_text(page) == "On hold"
    page.click("button:has-text('Resume')")
    page.wait_for_selector("text=Resumed. The clock is running.")

    page.click("summary:has-text('Complete')")
    page.click("button:has-text('Complete work')")
    page.wait_for_selector("#page-error")
    assert "Required to complete" in page.inner_text("#page-error")
    # Focus moves to the errors (expect polls without eval, which the page's CSP forbids).
    expect(page.locator("#page-error")).to_be_focused()
    assert page.get_attribute("#id_problem", "aria-invalid") == "true"
    assert page.is_visible("#id_problem")  # the form stays open with its errors
    page.select_option("#id_problem", label="VIB Abnormal vibration")
    page.select_option("#id_cause", label="MISALIGN Misalignment")
    page.select_option("#id_remedy", label="REALIGN Realign")
    screenshot(page, "04-complete-form")
    page.click("button:has-text('Complete work')")
    page.wait_for_selector("text=Completed. Thank you!")
    assert status_text(page) == "Completed"
    screenshot(page, "05-work-order-completed")
    assert page.console_errors == []

    wo = WorkOrder.objects.get(pk=wo.pk)
    assert (wo.status, wo.problem.code, wo.remedy.code) == ("completed", "VIB", "REALIGN")
    assert wo.steps.filter(done=True).count() == 2
    assert Stock.objects.get(part__sku="BRG-6205").on_hand == Decimal("2")
    assert wo.labour.filter(automatic=True).count() == 2
    assert list(wo.history.values_list("to_status", flat=True))[-4:] == [
        "in_progress",
        "on_hold",
        "in_progress",
        "completed",
    ]

    planner_page = phone()
    log_in(planner_page, "paula", PASSWORD, path=wo.get_absolute_url())
    planner_page.wait_for_url(f"**{wo.get_absolute_url()}")
    assert status_text(planner_page) == "Completed"
    assert "VIB" in planner_page.inner_text(".wo-head")


def test_a_qr_label_leads_to_the_asset_page_where_a_problem_is_reported(phone, screenshot, plant):
    pump = plant["pump"]
    planner_page = phone()
    log_in(planner_page, "paula", PASSWORD, path=f"/tech/assets/labels/?site={plant['site'].pk}")
    planner_page.wait_for_selector("figure.label svg")
    assert planner_page.locator("figure.label").count() == 2
    screenshot(planner_page, "06-label-sheet")
    planner_page.goto(f"/tech/assets/{pump.pk}/label/")
    label_url = planner_page.get_attribute("figure.label a.label-url", "href")
    assert label_url.endswith(f"/tech/assets/{pump.pk}/")

    page = phone()
    page.goto(label_url)  # what scanning the code opens
    page.wait_for_url("**/tech/login/**")
    log_in(page, "tina", PASSWORD, path=page.url)
    page.wait_for_url(f"**/tech/assets/{pump.pk}/")
    assert plant["wo"].number in page.inner_text("#open-work")
    screenshot(page, "07-asset-page")

    page.click("#report button:has-text('Send to planners')")  # empty title: browser validation
    assert page.url.endswith(f"/tech/assets/{pump.pk}/")
    page.fill("#id_title", "Mechanical seal leaking")
    page.fill("#id_description", "Puddle under the pump")
    page.click("#report button:has-text('Send to planners')")
    page.wait_for_selector("text=was sent to the planners")
    screenshot(page, "08-problem-reported")

    request = pump.work_orders.get(title="Mechanical seal leaking")
    assert (request.status, request.source, request.requested_by) == (
        "requested",
        "request",
        plant["technician"],
    )
