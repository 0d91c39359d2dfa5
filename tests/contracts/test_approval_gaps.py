"""Client approval without back doors: completing, field work, creation, dispatch, re-sent
estimates, cancellation; and the trace of external service lines."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from audit.models import AuditEntry
from cmms.errors import TransitionNotAllowed
from contracts.choices import ClientApproval
from planner import services as planner_services
from tech import selectors as tech_selectors
from tests.factories import ContractFactory, WorkOrderFactory, move_to
from workorders import service_lines, services
from workorders.choices import EventKind, HoldReason, Status
from workorders.models import ChecklistStep, WorkOrder
from workorders.notes import work_order_note_add

pytestmark = pytest.mark.django_db

LIMIT = Decimal("1000.00")


@pytest.fixture
def contract(site):
    return ContractFactory(sites=[site], not_to_exceed=LIMIT)


@pytest.fixture
def work(site, contract):
    return WorkOrderFactory(site=site, contract=contract)


def estimate(work, amount, by):
    return services.work_order_estimate_set(work_order=work, estimated_cost=Decimal(amount), by=by)


def failure(codes):
    return dict(zip(("problem", "cause", "remedy"), codes, strict=True))


def url(work, action=""):
    return f"/api/v1/work-orders/{work.pk}/" + (f"{action}/" if action else "")


def pending_on_hold(work, planner):
    move_to(work, Status.IN_PROGRESS)
    services.work_order_transition(
        work_order=work,
        to=Status.ON_HOLD,
        by=planner,
        reason="estimate",
        hold_reason=HoldReason.WAITING_FOR_CLIENT,
    )
    estimate(work, "1500", planner)
    return work


# ---------------------------------------------------------------- 1a: running work, completing


def test_raising_the_estimate_of_running_work_above_the_limit_is_refused(work, planner):
    move_to(work, Status.IN_PROGRESS)
    with pytest.raises(TransitionNotAllowed) as refused:
        estimate(work, "1500", planner)
    assert refused.value.code == "client_approval_running_work"
    work.refresh_from_db()
    assert (work.estimated_cost, work.client_approval) == (None, ClientApproval.NOT_REQUIRED)


def test_running_work_may_be_re_estimated_within_the_limit(work, planner):
    move_to(work, Status.IN_PROGRESS)
    estimate(work, "900", planner)
    assert work.estimated_cost == Decimal("900")


def test_work_on_hold_for_the_client_is_re_estimated_and_waits_for_them(work, planner):
    pending_on_hold(work, planner)
    assert (work.hold_reason, work.client_approval) == (
        HoldReason.WAITING_FOR_CLIENT,
        ClientApproval.PENDING,
    )
    with pytest.raises(TransitionNotAllowed) as refused:
        services.work_order_transition(work_order=work, to=Status.IN_PROGRESS, by=planner)
    assert refused.value.code == "client_approval_pending"


def test_running_work_left_pending_cannot_complete(work, planner, codes):
    move_to(work, Status.IN_PROGRESS)
    WorkOrder.objects.filter(pk=work.pk).update(client_approval=ClientApproval.REJECTED)
    with pytest.raises(TransitionNotAllowed) as refused:
        services.work_order_transition(
            work_order=work, to=Status.COMPLETED, by=planner, **failure(codes)
        )
    assert refused.value.code == "client_approval_rejected"


# ---------------------------------------------------------------- 1b: field work


def test_labour_on_pending_work_is_refused(work, planner, technician):
    estimate(work, "1500", planner)
    with pytest.raises(TransitionNotAllowed) as refused:
        services.labour_add(work_order=work, technician=technician, hours="1", by=planner)
    assert refused.value.code == "client_approval_pending"
    assert not work.labour.exists()


def test_parts_on_rejected_work_are_refused(work, planner, viewer, stock):
    move_to(work, Status.SCHEDULED)
    estimate(work, "1500", planner)
    services.work_order_client_decide(work_order=work, approve=False, comment="no", by=viewer)
    with pytest.raises(TransitionNotAllowed) as refused:
        services.work_order_issue_part(work_order=work, stock=stock, quantity=1, by=planner)
    assert refused.value.code == "client_approval_rejected"
    assert not work.stock_movements.exists()


def test_checklist_steps_on_pending_work_are_refused(work, planner):
    step = ChecklistStep.objects.create(work_order=work, position=1, text="Check the seal")
    pending_on_hold(work, planner)
    step.refresh_from_db()
    with pytest.raises(TransitionNotAllowed) as refused:
        services.checklist_step_record(step=step, by=planner)
    assert refused.value.code == "client_approval_pending"
    step.refresh_from_db()
    assert not step.done


def test_notes_stay_possible_on_pending_work(work, planner):
    estimate(work, "1500", planner)
    work_order_note_add(work_order=work, message="Asked the client by phone", by=planner)
    assert work.events.filter(kind=EventKind.NOTE).exists()


# ---------------------------------------------------------------- 1c: creation


@pytest.mark.parametrize("status", [Status.APPROVED, Status.SCHEDULED])
def test_planned_work_is_not_created_above_the_limit(site, contract, planner, status):
    with pytest.raises(ValidationError) as refused:
        services.work_order_create(
            site=site, title="Pump", status=status, estimated_cost=Decimal("1500"), by=planner
        )
    assert "estimated_cost" in refused.value.message_dict
    assert not WorkOrder.objects.filter(title="Pump").exists()


def test_a_request_above_the_limit_is_created_waiting_for_the_client(site, contract, planner):
    work = services.work_order_create(
        site=site, title="Pump", estimated_cost=Decimal("1500"), by=planner
    )
    assert (work.status, work.client_approval) == (Status.REQUESTED, ClientApproval.PENDING)


def test_the_api_answers_a_planned_creation_above_the_limit_with_a_400(
    as_user, site, contract, planner
):
    response = as_user(planner).post(
        "/api/v1/work-orders/",
        {"site": site.pk, "title": "Pump", "status": "scheduled", "estimated_cost": "1500.00"},
        format="json",
    )
    assert response.status_code == 400
    assert "estimated_cost" in response.data


# ---------------------------------------------------------------- 1d: dispatch


def test_dispatching_scheduled_work_waiting_for_the_client_is_refused(work, planner, technician):
    move_to(work, Status.SCHEDULED)
    estimate(work, "1500", planner)
    start = timezone.now() + timedelta(days=1)
    with pytest.raises(TransitionNotAllowed) as refused:
        planner_services.work_order_dispatch(
            work_order=work, assignee=technician, scheduled_start=start, by=planner
        )
    assert refused.value.code == "client_approval_pending"
    work.refresh_from_db()
    assert work.assignee_id is None
    assert work.scheduled_start != start


# ---------------------------------------------------------------- 2: re-sent estimates


def test_re_sending_the_same_estimate_keeps_the_clients_approval(as_user, work, planner, viewer):
    assert as_user(planner).patch(url(work), {"estimated_cost": "1500.00"}).status_code == 200
    services.work_order_client_decide(work_order=work, approve=True, by=viewer)
    response = as_user(planner).patch(
        url(work), {"title": "New title", "estimated_cost": "1500.00"}, format="json"
    )
    assert response.status_code == 200, response.data
    assert response.data["client_approval"] == "approved"
    assert AuditEntry.objects.filter(action="work_order.estimate").count() == 1


def test_an_estimate_up_to_the_approved_amount_keeps_the_approval(work, planner, viewer):
    estimate(work, "1500", planner)
    services.work_order_client_decide(work_order=work, approve=True, by=viewer)
    estimate(work, "900", planner)
    estimate(work, "1400", planner)  # above the limit, within what the client approved
    assert work.client_approval == ClientApproval.APPROVED
    estimate(work, "1500", planner)
    assert work.client_approval == ClientApproval.APPROVED
    estimate(work, "1500.01", planner)
    assert work.client_approval == ClientApproval.PENDING


# ---------------------------------------------------------------- 3: cancelling, closed work


def test_cancelling_withdraws_a_pending_request_on_the_timeline(work, planner, viewer):
    estimate(work, "1500", planner)
    services.work_order_transition(
        work_order=work, to=Status.CANCELLED, by=planner, reason="too dear"
    )
    work.refresh_from_db()
    assert work.client_approval == ClientApproval.NOT_REQUIRED
    assert work.events.filter(
        kind=EventKind.CLIENT_APPROVAL, message__contains="withdrawn"
    ).exists()
    assert tech_selectors.awaiting_client_approval(viewer) == []


def test_the_clients_list_shows_open_work_only(work, site, contract, planner, viewer):
    estimate(work, "1500", planner)
    closed = WorkOrderFactory(site=site, contract=contract)
    WorkOrder.objects.filter(pk=closed.pk).update(
        status=Status.CANCELLED, client_approval=ClientApproval.PENDING
    )
    assert tech_selectors.awaiting_client_approval(viewer) == [work]


def test_a_decision_on_work_that_is_not_open_is_a_conflict(work, planner, viewer):
    estimate(work, "1500", planner)
    WorkOrder.objects.filter(pk=work.pk).update(status=Status.CANCELLED)
    with pytest.raises(TransitionNotAllowed) as refused:
        services.work_order_client_decide(work_order=work, approve=True, by=viewer)
    assert refused.value.code == "client_approval_not_pending"
    work.refresh_from_db()
    assert work.client_approval == ClientApproval.PENDING


# ---------------------------------------------------------------- 4: one transaction per PATCH


def test_a_refused_estimate_leaves_the_other_fields_of_the_patch_unchanged(as_user, work, planner):
    move_to(work, Status.IN_PROGRESS)
    title = work.title
    response = as_user(planner).patch(
        url(work), {"title": "Changed", "estimated_cost": "1500.00"}, format="json"
    )
    assert response.status_code == 409
    assert response.data["code"] == "client_approval_running_work"
    work.refresh_from_db()
    assert work.title == title


# ---------------------------------------------------------------- 5: service lines leave a trace


def test_service_lines_are_audited_and_on_the_timeline_with_amounts(work, planner):
    line = service_lines.service_line_add(
        work_order=work, vendor="Acme", description="Crane", amount="100", by=planner
    )
    service_lines.service_line_update(line=line, amount="150.00", by=planner)
    service_lines.service_line_delete(line=line, by=planner)
    entries = AuditEntry.objects.filter(object_type="workorders.serviceline").order_by("id")
    assert [(e.action, e.changes["amount"]) for e in entries] == [
        ("service_line.add", [None, "100.00"]),
        ("service_line.update", ["100.00", "150.00"]),
        ("service_line.delete", ["150.00", None]),
    ]
    events = work.events.filter(kind=EventKind.SERVICE_LINE).order_by("id")
    assert [(e.data["amount_before"], e.data["amount_after"]) for e in events] == [
        (None, "100.00"),
        ("100.00", "150.00"),
        ("150.00", None),
    ]
    assert all("Acme" in e.message and "100" not in e.message for e in events)


# ---------------------------------------------------------------- 6: index


@pytest.mark.postgresql(reason="SQLite's introspection lists no columns of a partial index")
def test_the_clients_pending_list_has_a_partial_index():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, WorkOrder._meta.db_table)
    assert constraints["work_order_approval_pending"]["columns"] == [
        "site_id",
        "client_approval_at",
    ]
