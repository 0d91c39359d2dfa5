"""The SLA clock in the work order API: read-only fields, the state filter, the hold code."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.factories import WorkOrderFactory, contract_covering, move_to
from workorders.choices import HoldReason, Status

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
CREATED = datetime(2026, 3, 24, 9, tzinfo=BERLIN)  # P3: respond by 13:00, at risk from 12:00
AT_RISK = datetime(2026, 3, 24, 12, 30, tzinfo=BERLIN)
URL = "/api/v1/work-orders/"


@pytest.fixture
def contract(site):
    return contract_covering(site, pausing_hold_reasons=[HoldReason.WAITING_FOR_PARTS])


def test_a_work_order_shows_its_contract_due_dates_and_current_state(
    as_user, planner, site, contract
):
    with time_machine.travel(CREATED, tick=False):
        wo = WorkOrderFactory(site=site)
    with time_machine.travel(AT_RISK, tick=False):
        body = as_user(planner).get(f"{URL}{wo.pk}/").json()
    assert body["contract"] == contract.pk
    assert datetime.fromisoformat(body["response_due_at"]) == datetime(
        2026, 3, 24, 13, tzinfo=BERLIN
    )
    assert datetime.fromisoformat(body["resolution_due_at"]) == datetime(
        2026, 3, 25, 16, tzinfo=BERLIN
    )
    assert body["sla_state"] == "at_risk"  # the stored state still says on_track
    assert body["sla_paused"] is False
    assert body["hold_reason"] == ""


def test_the_sla_fields_cannot_be_written(as_user, planner, site, contract):
    with time_machine.travel(CREATED, tick=False):
        wo = WorkOrderFactory(site=site)
        response = as_user(planner).patch(
            f"{URL}{wo.pk}/",
            {"sla_state": "on_track", "contract": None, "response_due_at": None},
            format="json",
        )
    assert response.status_code == 200
    wo.refresh_from_db()
    assert wo.contract == contract
    assert wo.response_due_at is not None


def test_work_is_filtered_by_its_sla_state_now(as_user, planner, site, contract):
    with time_machine.travel(CREATED, tick=False):
        risky = WorkOrderFactory(site=site)
    with time_machine.travel(datetime(2026, 3, 24, 11, tzinfo=BERLIN), tick=False):
        fresh = WorkOrderFactory(site=site)
    outside = WorkOrderFactory(site=site, priority=4)
    with time_machine.travel(AT_RISK, tick=False):
        client = as_user(planner)
        at_risk = client.get(URL, {"sla_state": "at_risk"}).json()["results"]
        on_track = client.get(URL, {"sla_state": "on_track"}).json()["results"]
        wrong = client.get(URL, {"sla_state": "late"})
    assert [row["id"] for row in at_risk] == [risky.pk]
    assert [row["id"] for row in on_track] == [fresh.pk]
    assert outside.pk not in {row["id"] for row in on_track}
    assert wrong.status_code == 400


def test_the_hold_transition_takes_a_hold_reason_code_that_may_pause_the_clock(
    as_user, technician, site, contract
):
    with time_machine.travel(CREATED, tick=False):
        wo = WorkOrderFactory(site=site, assignee=technician)
        move_to(wo, Status.IN_PROGRESS)
        client = as_user(technician)
        response = client.post(
            f"{URL}{wo.pk}/transition/",
            {"to": "on_hold", "reason": "Seal on order", "hold_reason": "waiting_for_parts"},
            format="json",
        )
    assert response.status_code == 200
    assert response.json()["hold_reason"] == "waiting_for_parts"
    assert response.json()["sla_paused"] is True


def test_an_unknown_hold_reason_code_is_a_400(as_user, technician, site, contract):
    wo = WorkOrderFactory(site=site, assignee=technician)
    move_to(wo, Status.IN_PROGRESS)
    response = as_user(technician).post(
        f"{URL}{wo.pk}/transition/",
        {"to": "on_hold", "reason": "x", "hold_reason": "bored"},
        format="json",
    )
    assert response.status_code == 400
    assert "hold_reason" in response.json()


def test_a_hold_without_a_code_records_other(as_user, technician, site):
    wo = WorkOrderFactory(site=site, assignee=technician)
    move_to(wo, Status.IN_PROGRESS)
    response = as_user(technician).post(
        f"{URL}{wo.pk}/transition/", {"to": "on_hold", "reason": "Lunch"}, format="json"
    )
    assert response.json()["hold_reason"] == "other"
