"""The enforced work order lifecycle: every allowed and every refused transition, and history."""

import itertools
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from cmms.errors import ConflictError, NotPermitted, TransitionNotAllowed
from tech.services import work_order_photo_add
from tests.factories import (
    CustomerViewerFactory,
    PlannerFactory,
    SiteFactory,
    TechnicianFactory,
    WorkOrderFactory,
    failure_codes,
    move_to,
)
from workorders.choices import (
    FAILURE_CODES_REQUIRED,
    FINAL_STATUSES,
    OPEN_STATUSES,
    PLANNER_ONLY_TRANSITIONS,
    TRANSITIONS,
    Status,
    WorkOrderType,
)
from workorders.models import StatusChange
from workorders.notes import work_order_note_add
from workorders.policy import check_transition
from workorders.services import work_order_transition

pytestmark = pytest.mark.django_db

ALL = [
    "requested",
    "approved",
    "scheduled",
    "in_progress",
    "on_hold",
    "completed",
    "closed",
    "cancelled",
]
# The design's lifecycle, written out: from-status -> the statuses it may move to.
EXPECTED_TABLE = {
    "requested": {"approved", "cancelled"},
    "approved": {"scheduled", "cancelled"},
    "scheduled": {"in_progress", "cancelled"},
    "in_progress": {"on_hold", "completed", "cancelled"},
    "on_hold": {"in_progress", "cancelled"},
    "completed": {"closed", "in_progress"},
    "closed": set(),
    "cancelled": set(),
}
ALLOWED = [(a, b) for a in ALL for b in sorted(EXPECTED_TABLE[a])]
REFUSED = [(a, b) for a, b in itertools.product(ALL, ALL) if b not in EXPECTED_TABLE[a]]
# What a technician may do on their own (or unassigned) work: the field work, nothing else.
TECHNICIAN_TRANSITIONS = {
    ("scheduled", "in_progress"),
    ("in_progress", "on_hold"),
    ("in_progress", "completed"),
    ("on_hold", "in_progress"),
}


def test_the_lifecycle_table_is_exactly_the_designed_one():
    assert {str(k): {str(v) for v in targets} for k, targets in TRANSITIONS.items()} == (
        EXPECTED_TABLE
    )
    assert len(ALLOWED) == 13 and len(REFUSED) == 51


def test_the_statuses_are_exactly_these():
    assert sorted(Status.values) == sorted(ALL)


def test_open_and_final_statuses_are_exactly_these():
    assert {str(s) for s in OPEN_STATUSES} == {
        "requested",
        "approved",
        "scheduled",
        "in_progress",
        "on_hold",
    }
    assert {str(s) for s in FINAL_STATUSES} == {"closed", "cancelled"}


def test_planner_only_transitions_are_exactly_the_office_decisions():
    assert {(str(a), str(b)) for a, b in PLANNER_ONLY_TRANSITIONS} == {
        ("requested", "approved"),
        ("approved", "scheduled"),
        ("completed", "closed"),
        ("completed", "in_progress"),
        ("requested", "cancelled"),
        ("approved", "cancelled"),
        ("scheduled", "cancelled"),
        ("in_progress", "cancelled"),
        ("on_hold", "cancelled"),
    }


def test_failure_codes_are_required_for_corrective_and_condition_based_work_only():
    assert {str(t) for t in FAILURE_CODES_REQUIRED} == {"corrective", "condition_based"}


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


@pytest.mark.parametrize(("start", "to"), ALLOWED)
def test_a_technician_makes_exactly_the_field_transitions_on_their_own_work(start, to):
    site = SiteFactory()
    tech = TechnicianFactory(sites=[site])
    wo = move_to(WorkOrderFactory(site=site, assignee=tech, type="preventive"), start)
    if (start, to) in TECHNICIAN_TRANSITIONS:
        work_order_transition(work_order=wo, to=to, by=tech, reason="waiting for parts")
        wo.refresh_from_db()
        assert wo.status == to
    else:
        with pytest.raises(NotPermitted):
            work_order_transition(work_order=wo, to=to, by=tech, reason="because")
        wo.refresh_from_db()
        assert wo.status == start


@pytest.mark.parametrize("start", ["in_progress", "on_hold"])
def test_a_technician_cannot_cancel_their_own_work_in_progress_or_on_hold(start):
    site = SiteFactory()
    tech = TechnicianFactory(sites=[site])
    wo = move_to(WorkOrderFactory(site=site, assignee=tech), start)
    with pytest.raises(NotPermitted) as refused:
        work_order_transition(work_order=wo, to="cancelled", by=tech, reason="not needed")
    assert str(refused.value) == f"Only planners move work from {start} to cancelled."
    wo.refresh_from_db()
    assert wo.status == start


@pytest.mark.parametrize("start", ["requested", "approved", "scheduled", "in_progress", "on_hold"])
@pytest.mark.parametrize("reason", ["", "   ", "\n\t"])
def test_cancelling_needs_a_reason(start, reason):
    site = SiteFactory()
    planner = PlannerFactory(sites=[site])
    wo = move_to(WorkOrderFactory(site=site), start)
    with pytest.raises(ValidationError) as refused:
        work_order_transition(work_order=wo, to="cancelled", by=planner, reason=reason)
    assert refused.value.message_dict == {"reason": ["Give a reason to put work cancelled."]}
    wo.refresh_from_db()
    assert wo.status == start


def test_putting_work_on_hold_without_a_reason_names_on_hold():
    wo = move_to(WorkOrderFactory(), "in_progress")
    with pytest.raises(ValidationError) as refused:
        work_order_transition(work_order=wo, to="on_hold", reason="")
    assert refused.value.message_dict == {"reason": ["Give a reason to put work on hold."]}


@pytest.mark.parametrize("to", ["approved", "scheduled", "in_progress", "completed", "closed"])
def test_moves_other_than_hold_and_cancel_need_no_reason(to):
    start = {
        "approved": "requested",
        "scheduled": "approved",
        "in_progress": "scheduled",
        "completed": "in_progress",
        "closed": "completed",
    }[to]
    site = SiteFactory()
    planner = PlannerFactory(sites=[site])
    wo = move_to(WorkOrderFactory(site=site, type="inspection"), start)
    work_order_transition(work_order=wo, to=to, by=planner, reason="")
    wo.refresh_from_db()
    assert wo.status == to


@pytest.mark.parametrize("wo_type", ["preventive", "inspection"])
def test_completing_preventive_and_inspection_work_needs_no_failure_codes(wo_type):
    wo = move_to(WorkOrderFactory(type=wo_type), "in_progress")
    work_order_transition(work_order=wo, to="completed")
    wo.refresh_from_db()
    assert wo.status == "completed"


def test_completing_corrective_work_names_each_missing_failure_code():
    wo = move_to(WorkOrderFactory(type="corrective"), "in_progress")
    problem, cause, _ = failure_codes()
    wo.problem, wo.cause = problem, cause
    wo.save()
    with pytest.raises(ValidationError) as refused:
        work_order_transition(work_order=wo, to="completed")
    assert refused.value.message_dict == {
        "remedy": ["Required to complete corrective and condition-based work."]
    }


def test_an_illegal_move_names_the_allowed_ones():
    wo = move_to(WorkOrderFactory(), "in_progress")
    with pytest.raises(TransitionNotAllowed) as refused:
        work_order_transition(work_order=wo, to="closed")
    assert str(refused.value) == (
        f"{wo.number} cannot go from in_progress to closed; allowed: cancelled, completed, on_hold."
    )


@pytest.mark.parametrize("final", ["closed", "cancelled"])
def test_a_final_status_allows_nothing_and_says_so(final):
    wo = move_to(WorkOrderFactory(type="inspection"), final)
    with pytest.raises(TransitionNotAllowed) as refused:
        work_order_transition(work_order=wo, to="in_progress")
    assert str(refused.value).endswith("allowed: none (final status).")


def test_a_technician_of_another_site_cannot_act_even_on_unassigned_work():
    wo = move_to(WorkOrderFactory(), "scheduled")
    outsider = TechnicianFactory(sites=[SiteFactory()])
    with pytest.raises(NotPermitted):
        work_order_transition(work_order=wo, to="in_progress", by=outsider)


# --------------------------------------------------------------------------- closed work


def tiny_png() -> bytes:
    """A real 1x1 PNG, built by hand (decodes with any image library)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("final", ["closed", "cancelled"])
def test_notes_on_closed_or_cancelled_work_are_refused(final):
    site = SiteFactory()
    tech = TechnicianFactory(sites=[site])
    wo = move_to(WorkOrderFactory(site=site, assignee=tech, type="inspection"), final)
    with pytest.raises(TransitionNotAllowed) as refused:
        work_order_note_add(work_order=wo, by=tech, message="one more thing")
    assert str(refused.value) == f"{wo.number} is {final}."
    assert not wo.events.filter(kind="note").exists()


@pytest.mark.parametrize("final", ["closed", "cancelled"])
def test_photos_on_closed_or_cancelled_work_are_refused(final, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    site = SiteFactory()
    tech = TechnicianFactory(sites=[site])
    wo = move_to(WorkOrderFactory(site=site, assignee=tech, type="inspection"), final)
    upload = SimpleUploadedFile("p.png", tiny_png(), content_type="image/png")
    with pytest.raises(TransitionNotAllowed):
        work_order_photo_add(work_order=wo, by=tech, upload=upload)
    assert wo.photos.count() == 0
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


@pytest.mark.parametrize("start", ["requested", "scheduled", "in_progress", "on_hold", "completed"])
def test_notes_on_open_or_completed_work_are_taken(start):
    site = SiteFactory()
    tech = TechnicianFactory(sites=[site])
    wo = move_to(WorkOrderFactory(site=site, assignee=tech, type="inspection"), start)
    note = work_order_note_add(work_order=wo, by=tech, message=" checked ")
    assert note.message == "checked"


def test_who_acts_and_why_are_given_by_name_only():
    wo = WorkOrderFactory()
    with pytest.raises(TypeError):
        check_transition(wo, "approved", None, "because")


ALLOWED_MOVES = sorted((current, to) for current, targets in TRANSITIONS.items() for to in targets)


@pytest.mark.parametrize(("current", "to"), ALLOWED_MOVES)
@pytest.mark.parametrize("confirmed", [False, True])
def test_an_unconfirmed_safety_step_holds_back_starting_and_nothing_else(current, to, confirmed):
    """docs/safety.md: moving to in_progress (start, resume, reopen) waits for every safety
    step; no other move does, and a confirmed step holds nothing back."""
    site = SiteFactory()
    planner = PlannerFactory(sites=[site])
    wo = WorkOrderFactory(
        site=site, type="inspection", steps=[{"text": "Lock out", "kind": "lockout"}]
    )
    wo.steps.update(done=confirmed)
    wo.status = current
    if to == "in_progress" and not confirmed:
        with pytest.raises(ConflictError) as refused:
            check_transition(wo, to, by=planner, reason="r")
        assert refused.value.code == "safety_steps_unconfirmed"
        assert "1. Lock out" in refused.value.message
    else:
        check_transition(wo, to, by=planner, reason="r")
