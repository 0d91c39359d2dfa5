from decimal import Decimal

import pytest
from django.test import Client

from assets.models import Stock
from tests.factories import move_to, scheduled_work
from workorders.choices import EventKind, Status
from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db


def url(wo, action=""):
    return f"/tech/work-orders/{wo.pk}/{action + '/' if action else ''}"


def test_the_page_shows_asset_path_alert_values_and_checklist(client_for, technician, work):
    response = client_for(technician).get(url(work))
    assert response.status_code == 200
    html = response.content.decode()
    assert work.number in html
    assert "AREA-1" in html and "P-101" in html and "Criticality B" in html
    assert "11.2mm/s" in html and "threshold 7.1mm/s" in html
    assert "Measure bearing vibration" in html
    assert f'action="/tech/work-orders/{work.pk}/start/"' in html
    # Complete waits hidden for a start (the offline queue shows it once a start is queued).
    before_complete = html.split(f'action="/tech/work-orders/{work.pk}/complete/"')[0]
    assert "hidden data-after-start" in before_complete.rsplit("<details", 1)[1]


def test_the_work_order_page_renders_in_a_bounded_number_of_queries(
    client_for, technician, work, stock, codes, django_assert_max_num_queries
):
    client = client_for(technician)
    move_to(work, Status.IN_PROGRESS, by=technician)
    client.post(url(work, "parts"), {"stock": stock.pk, "quantity": "1"})
    client.post(url(work, "notes"), {"message": "Coupling worn"})
    with django_assert_max_num_queries(20):
        response = client.get(url(work) + "?part_q=BRG")
    assert response.status_code == 200
    assert "BRG-6205" in response.content.decode()


def test_starting_pausing_resuming_and_completing_follow_the_lifecycle(
    client_for, technician, work, codes
):
    client = client_for(technician)
    assert client.post(url(work, "start")).status_code == 302
    work.refresh_from_db()
    assert work.status == Status.IN_PROGRESS
    assert work.labour.filter(automatic=True, ended_at__isnull=True).count() == 1

    response = client.post(url(work, "pause"), {"reason": ""})
    assert response.status_code == 400
    assert "Why pause: enter a reason." in response.content.decode()

    assert client.post(url(work, "pause"), {"reason": "Waiting for parts"}).status_code == 302
    work.refresh_from_db()
    assert (work.status, work.on_hold_reason) == (Status.ON_HOLD, "Waiting for parts")

    assert client.post(url(work, "resume")).status_code == 302
    problem, cause, remedy = codes
    done = client.post(
        url(work, "complete"), {"problem": problem.pk, "cause": cause.pk, "remedy": remedy.pk}
    )
    assert done.status_code == 302
    work.refresh_from_db()
    assert work.status == Status.COMPLETED
    assert work.remedy == remedy
    assert work.labour.filter(ended_at__isnull=True).count() == 0


def test_completing_condition_based_work_without_failure_codes_shows_field_errors(
    client_for, technician, work
):
    client = client_for(technician)
    client.post(url(work, "start"))
    response = client.post(url(work, "complete"), {"problem": "", "cause": "", "remedy": ""})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-field="problem"' in html and 'data-field="remedy"' in html
    assert "Required to complete corrective and condition-based work." in html
    work.refresh_from_db()
    assert work.status == Status.IN_PROGRESS


def test_an_action_the_lifecycle_does_not_allow_is_a_409_with_the_reason(
    client_for, technician, work
):
    client = client_for(technician)
    response = client.post(url(work, "resume"))
    assert response.status_code == 409
    assert "is scheduled; it cannot be resumed now" in response.content.decode()
    client.post(url(work, "start"))
    again = client.post(url(work, "start"))
    assert again.status_code == 409
    assert "is in progress; it cannot be started now" in again.content.decode()
    assert work.labour.count() == 1


def test_ticking_a_step_records_value_result_who_and_when(client_for, technician, work):
    client = client_for(technician)
    client.post(url(work, "start"))
    step = work.steps.get(position=2)
    missing = client.post(url(work, f"steps/{step.pk}"), {"done": "true", "value": ""})
    assert missing.status_code == 400
    assert "Step 2 needs a measured value." in missing.content.decode()

    response = client.post(
        url(work, f"steps/{step.pk}"), {"done": "true", "value": "4.5", "result": "OK"}
    )
    assert response.status_code == 302
    step.refresh_from_db()
    assert (step.done, step.value, step.result, step.done_by) == (
        True,
        Decimal("4.5"),
        "OK",
        technician,
    )
    assert step.done_at is not None
    page = client.get(url(work)).content.decode()
    assert "4.5 mm/s" in page and "tina" in page


def test_ticking_a_step_before_starting_is_refused_with_a_message(client_for, technician, work):
    step = work.steps.get(position=1)
    response = client_for(technician).post(url(work, f"steps/{step.pk}"), {"done": "true"})
    assert response.status_code == 409
    assert "Start the work order before ticking its checklist." in response.content.decode()


def test_issuing_a_part_goes_through_the_ledger(client_for, technician, work, stock):
    client = client_for(technician)
    client.post(url(work, "start"))
    response = client.post(url(work, "parts"), {"stock": stock.pk, "quantity": "2"})
    assert response.status_code == 302
    stock.refresh_from_db()
    assert stock.on_hand == Decimal("3")
    movement = work.stock_movements.get()
    assert movement.quantity == Decimal("-2")
    assert movement.created_by == technician


def test_issuing_more_than_the_storeroom_holds_is_a_clear_409(client_for, technician, work, stock):
    client = client_for(technician)
    client.post(url(work, "start"))
    response = client.post(url(work, "parts"), {"stock": stock.pk, "quantity": "50"})
    assert response.status_code == 409
    assert "Only 5.000 pcs of BRG-6205 available in north/main" in response.content.decode()
    assert Stock.objects.get(pk=stock.pk).on_hand == Decimal("5")


def test_a_part_of_another_sites_storeroom_cannot_be_issued(
    client_for, technician, work, other_site
):
    from tests.factories import StockFactory, StoreroomFactory

    foreign = StockFactory(storeroom=StoreroomFactory(site=other_site))
    client = client_for(technician)
    client.post(url(work, "start"))
    response = client.post(url(work, "parts"), {"stock": foreign.pk, "quantity": "1"})
    assert response.status_code == 400
    assert "Pick a part from this site" in response.content.decode()
    assert foreign.movements.count() == 0


def test_manual_labour_is_added_for_the_technician_and_bad_hours_are_field_errors(
    client_for, technician, work
):
    client = client_for(technician)
    bad = client.post(url(work, "labour"), {"hours": "30"})
    assert bad.status_code == 400
    assert 'data-field="hours"' in bad.content.decode()
    assert client.post(url(work, "labour"), {"hours": "1.5", "note": "travel"}).status_code == 302
    work.refresh_from_db()
    assert work.actual_hours == Decimal("1.5")
    assert work.labour.get().technician == technician


def test_a_note_is_added_to_the_timeline(client_for, technician, work):
    client = client_for(technician)
    assert client.post(url(work, "notes"), {"message": "Guard missing"}).status_code == 302
    event = work.events.get(kind=EventKind.NOTE)
    assert (event.message, event.created_by) == ("Guard missing", technician)
    assert "Guard missing" in client.get(url(work)).content.decode()


def test_a_pm_work_order_shows_its_plan(client_for, planner, site):
    from tests.factories import PMPlanFactory

    plan = PMPlanFactory(site=site, name="Monthly greasing")
    wo = scheduled_work(site, asset=plan.asset, type="preventive")
    WorkOrder.objects.filter(pk=wo.pk).update(pm_plan=plan)
    html = client_for(planner).get(url(wo)).content.decode()
    assert "Monthly greasing" in html


def test_anonymous_users_are_sent_to_the_login_page(work):
    response = Client().get(url(work))
    assert response.status_code == 302
    assert response["Location"] == f"/tech/login/?next={url(work)}"
