"""The enforced work order lifecycle: every allowed and every refused transition, and history."""

import itertools

import pytest
from django.core.exceptions import ValidationError

from cmms.errors import NotPermitted, TransitionNotAllowed
from tests.factories import (
    CustomerViewerFactory,
    PlannerFactory,
    SiteFactory,
    TechnicianFactory,
    WorkOrderFactory,
    failure_codes,
    move_to,
)
from workorders.choices import TRANSITIONS, Status, WorkOrderType
from workorders.models import StatusChange
from workorders.services import work_order_transition

pytestmark = pytest.mark.django_db

ALL = list(Status.values)
ALLOWED = [(a, b) for a in ALL for b in sorted(TRANSITIONS[a])]
REFUSED = [(a, b) for a, b in itertools.product(ALL, ALL) if b not in TRANSITIONS[a]]


def test_lifecycle_table_matches_the_design():
    assert TRANSITIONS[Status.REQUESTED] == {Status.APPROVED, Status.CANCELLED}
    assert TRANSITIONS[Status.ON_HOLD] == {Status.IN_PROGRESS, Status.CANCELLED}
    assert TRANSITIONS[Status.COMPLETED] == {Status.CLOSED, Status.IN_PROGRESS}
    assert TRANSITIONS[Status.CLOSED] == set()
    assert TRANSITIONS[Status.CANCELLED] == set()
    assert len(ALLOWED) == 13


@pytest.mark.parametrize(("start", "to"), ALLOWED)
def test_a_planner_makes_every_allowed_transition(start, to):
    site = SiteFactory()
    planner = PlannerFactory(sites=[site])
    wo = move_to(WorkOrderFactory(site=site), start)
    problem, cause, remedy = failure_codes()
    work_order_transition(
        work_order=wo,
        to=to,
        by=planner,
        reason="because",
        problem=problem,
        cause=cause,
        remedy=remedy,
    )
    wo.refresh_from_db()
    assert wo.status == to
    last = wo.history.last()
    assert (last.from_status, last.to_status, last.changed_by) == (start, to, planner)


@pytest.mark.parametrize(("start", "to"), REFUSED)
def test_every_other_transition_is_refused_and_changes_nothing(start, to):
    site = SiteFactory()
    planner = PlannerFactory(sites=[site])
    wo = move_to(WorkOrderFactory(site=site), start)
    history_before = wo.history.count()
    with pytest.raises(TransitionNotAllowed) as refused:
        work_order_transition(work_order=wo, to=to, by=planner, reason="because")
    assert f"from {start} to {to}" in str(refused.value)
    wo.refresh_from_db()
    assert wo.status == start
    assert wo.history.count() == history_before


def test_history_records_who_when_from_and_to_for_the_whole_life():
    site = SiteFactory()
    planner = PlannerFactory(sites=[site])
    tech = TechnicianFactory(sites=[site])
    wo = WorkOrderFactory(site=site, by=planner, assignee=tech)
    work_order_transition(work_order=wo, to=Status.APPROVED, by=planner)
    work_order_transition(work_order=wo, to=Status.SCHEDULED, by=planner)
    work_order_transition(work_order=wo, to=Status.IN_PROGRESS, by=tech)
    work_order_transition(work_order=wo, to=Status.ON_HOLD, by=tech, reason="waiting for parts")
    assert wo.on_hold_reason == "waiting for parts"
    work_order_transition(work_order=wo, to=Status.IN_PROGRESS, by=tech)
    problem, cause, remedy = failure_codes()
    work_order_transition(
        work_order=wo, to=Status.COMPLETED, by=tech, problem=problem, cause=cause, remedy=remedy
    )
    work_order_transition(work_order=wo, to=Status.CLOSED, by=planner)
    rows = list(
        StatusChange.objects.filter(work_order=wo).values_list(
            "from_status", "to_status", "changed_by"
        )
    )
    assert rows == [
        ("", "requested", planner.pk),
        ("requested", "approved", planner.pk),
        ("approved", "scheduled", planner.pk),
        ("scheduled", "in_progress", tech.pk),
        ("in_progress", "on_hold", tech.pk),
        ("on_hold", "in_progress", tech.pk),
        ("in_progress", "completed", tech.pk),
        ("completed", "closed", planner.pk),
    ]
    wo.refresh_from_db()
    assert wo.started_at and wo.completed_at and wo.closed_at
    assert wo.labour.filter(automatic=True).count() == 2
    assert wo.labour.filter(ended_at__isnull=True).count() == 0


def test_putting_work_on_hold_needs_a_reason():
    wo = move_to(WorkOrderFactory(), Status.IN_PROGRESS)
    with pytest.raises(ValidationError) as refused:
        work_order_transition(work_order=wo, to=Status.ON_HOLD, reason="  ")
    assert "reason" in refused.value.message_dict
    wo.refresh_from_db()
    assert wo.status == Status.IN_PROGRESS


@pytest.mark.parametrize("wo_type", [WorkOrderType.CORRECTIVE, WorkOrderType.CONDITION_BASED])
def test_completing_corrective_work_needs_failure_codes(wo_type):
    wo = move_to(WorkOrderFactory(type=wo_type), Status.IN_PROGRESS)
    with pytest.raises(ValidationError) as refused:
        work_order_transition(work_order=wo, to=Status.COMPLETED)
    assert set(refused.value.message_dict) == {"problem", "cause", "remedy"}


def test_completing_preventive_work_needs_no_failure_codes():
    wo = move_to(WorkOrderFactory(type=WorkOrderType.PREVENTIVE), Status.IN_PROGRESS)
    work_order_transition(work_order=wo, to=Status.COMPLETED)
    assert wo.status == Status.COMPLETED


def test_failure_codes_of_the_wrong_kind_are_refused():
    wo = move_to(WorkOrderFactory(), Status.IN_PROGRESS)
    _, cause, remedy = failure_codes()
    with pytest.raises(ValidationError) as refused:
        work_order_transition(
            work_order=wo, to=Status.COMPLETED, problem=cause, cause=cause, remedy=remedy
        )
    assert "problem" in refused.value.message_dict


@pytest.mark.parametrize(
    ("start", "to"),
    [
        (Status.REQUESTED, Status.APPROVED),
        (Status.APPROVED, Status.SCHEDULED),
        (Status.COMPLETED, Status.IN_PROGRESS),
        (Status.COMPLETED, Status.CLOSED),
        (Status.SCHEDULED, Status.CANCELLED),
    ],
)
def test_technicians_cannot_make_planner_transitions(start, to):
    site = SiteFactory()
    tech = TechnicianFactory(sites=[site])
    wo = move_to(WorkOrderFactory(site=site), start)
    with pytest.raises(NotPermitted):
        work_order_transition(work_order=wo, to=to, by=tech, reason="x")
    wo.refresh_from_db()
    assert wo.status == start


def test_a_technician_cannot_start_work_assigned_to_someone_else():
    site = SiteFactory()
    me, colleague = TechnicianFactory(sites=[site]), TechnicianFactory(sites=[site])
    wo = move_to(WorkOrderFactory(site=site, assignee=colleague), Status.SCHEDULED)
    with pytest.raises(NotPermitted):
        work_order_transition(work_order=wo, to=Status.IN_PROGRESS, by=me)


def test_a_technician_who_starts_unassigned_work_picks_it_up():
    site = SiteFactory()
    tech = TechnicianFactory(sites=[site])
    wo = move_to(WorkOrderFactory(site=site), Status.SCHEDULED)
    work_order_transition(work_order=wo, to=Status.IN_PROGRESS, by=tech)
    wo.refresh_from_db()
    assert wo.assignee == tech


def test_nobody_acts_on_another_sites_work():
    wo = move_to(WorkOrderFactory(), Status.REQUESTED)
    outsider = PlannerFactory(sites=[SiteFactory()])
    with pytest.raises(NotPermitted):
        work_order_transition(work_order=wo, to=Status.APPROVED, by=outsider)


def test_customer_viewers_cannot_change_status():
    wo = WorkOrderFactory()
    viewer = CustomerViewerFactory(sites=[wo.site])
    with pytest.raises(NotPermitted):
        work_order_transition(work_order=wo, to=Status.APPROVED, by=viewer)


def test_an_unknown_status_is_a_validation_error():
    wo = WorkOrderFactory()
    with pytest.raises(ValidationError) as refused:
        work_order_transition(work_order=wo, to="done")
    assert "to" in refused.value.message_dict


def test_work_order_numbers_are_human_readable_and_unique():
    first, second = WorkOrderFactory(), WorkOrderFactory()
    assert first.number == f"WO-{first.pk:06d}"
    assert second.number != first.number
    first.refresh_from_db()
    assert first.number.startswith("WO-")


def test_technicians_record_field_work_only_on_their_own_or_unassigned_work():
    from workorders.services import checklist_step_record

    site = SiteFactory()
    me, colleague = TechnicianFactory(sites=[site]), TechnicianFactory(sites=[site])
    theirs = move_to(
        WorkOrderFactory(site=site, assignee=colleague, steps=["Check"]), Status.IN_PROGRESS
    )
    with pytest.raises(NotPermitted):
        checklist_step_record(step=theirs.steps.get(), by=me, result="ok")
    mine = move_to(WorkOrderFactory(site=site, assignee=me, steps=["Check"]), Status.IN_PROGRESS)
    assert checklist_step_record(step=mine.steps.get(), by=me, result="ok").done
