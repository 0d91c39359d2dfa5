"""Who may do what to a work order: plan it, do its field work, move it along its lifecycle,
issue parts to it.

Each rule is a `check_*` function that raises the refusal a service answers with
(`NotPermitted`, `TransitionNotAllowed` or a `ValidationError`); the services call them before
they write, and the pages and the admin ask the `may_*` functions, which are the same checks,
to decide which actions to show. `by=None` is the system, which may do everything.

Planners plan (approve, schedule, assign, change the planning, cancel, close, reopen).
Technicians do the field work (start, pause, resume, complete, checklist, labour, parts,
notes) on work of their sites that is theirs or nobody's. Customer viewers request work and
read. Superusers act as planners everywhere.
"""

from django.core.exceptions import ValidationError

from accounts import policy as account_policy
from cmms.errors import ConflictError, NotPermitted, ServiceError, TransitionNotAllowed
from cmms.roles import Role
from cmms.scoping import visible_users
from contracts.choices import ClientApproval
from workorders.choices import (
    FAILURE_CODES_REQUIRED,
    FINAL_STATUSES,
    PLANNER_ONLY_TRANSITIONS,
    SAFETY_STEP_KINDS,
    TRANSITIONS,
    Status,
)

# Who the API lets into each kind of write; the checks below then decide per work order.
PLANNING_ROLES = frozenset({Role.PLANNER})
FIELD_WORK_ROLES = frozenset({Role.PLANNER, Role.TECHNICIAN})
REQUEST_ROLES = frozenset(Role)  # everyone at a site may request work

# Where field work happens: the checklist is ticked on running work, parts go to planned or
# running work, and a technician picks up nobody's work once it is planned and released.
CHECKLIST_STATUSES = frozenset({Status.IN_PROGRESS, Status.ON_HOLD})
PARTS_STATUSES = frozenset({Status.SCHEDULED, Status.IN_PROGRESS, Status.ON_HOLD})
PICK_UP_STATUSES = (Status.SCHEDULED, Status.IN_PROGRESS, Status.ON_HOLD)
# Safety steps (lockout/tagout, permits) are confirmed before the work starts: on scheduled
# work (released to the field), and on running work. Once the work has started (running or
# on hold) a confirmation stands: unticking would say the energy is back while people work.
# Completed work takes new confirmations before it is reopened (`safety_step_confirmed`).
SAFETY_STEP_STATUSES = frozenset(
    {Status.SCHEDULED, Status.IN_PROGRESS, Status.ON_HOLD, Status.COMPLETED}
)
SAFETY_LOCKED_STATUSES = frozenset({Status.IN_PROGRESS, Status.ON_HOLD})
SAFETY_STEPS_UNCONFIRMED = "safety_steps_unconfirmed"

CUSTOMER_VIEWERS_READ = "Customer viewers cannot change work orders."

# Planning that a work request leaves to the planner who triages it.
PLANNING_FIELDS = frozenset(
    {
        "assignee",
        "due_at",
        "scheduled_start",
        "estimated_hours",
        "required_skill",
        "needs_attention",
        "estimated_cost",
    }
)

# Where work waiting for (or refused by) the client may not go: it is not planned or done
# until the client approves its estimate (workorders.approvals); cancelling stays possible.
# Completing is gated too: work estimated above the limit is not finished behind the client's back.
CLIENT_APPROVAL_GATED = frozenset(
    {Status.APPROVED, Status.SCHEDULED, Status.IN_PROGRESS, Status.COMPLETED}
)


def check_site(user, site_id: int) -> None:
    """Raise unless `user` works at the site (the system works everywhere)."""
    if user is not None and not user.may_see_site(site_id):
        raise NotPermitted("You do not work at this site.")


def may_change_work(user) -> bool:
    """Whether `user` changes work orders at all; customer viewers only read and request."""
    return user is None or not user.is_customer_viewer


def may_see_costs(user) -> bool:
    """Whether `user` sees the partner's internal costs and cost rates: partner staff (and the
    system); customer viewers, the client's staff, never."""
    return user is None or not user.is_customer_viewer


def may_plan(user) -> bool:
    """Whether `user` plans work (approves, schedules, assigns); planners and superusers."""
    return user is None or user.is_planner


def check_planning(by, site_id: int, *, refusal: str) -> None:
    """Raise unless `by` plans work at the site; `refusal` says what they tried."""
    if by is None:
        return
    check_site(by, site_id)
    if not may_plan(by):
        raise NotPermitted(refusal)


def check_request_planning(by, fields: dict) -> None:
    """Raise when someone who does not plan gives planning to new work (a work request)."""
    if may_plan(by):
        return
    given = {name for name, value in fields.items() if value is not None}
    planning = sorted(PLANNING_FIELDS & given)
    if planning:
        raise NotPermitted(
            f"Only planners set {', '.join(planning)}; "
            "a work request is planned by the planner who approves it."
        )


def check_field_work(work_order, by) -> None:
    """Raise unless `by` may record field work (checklist, parts, notes) on this work order:
    planners of its site, and technicians of its site when it is theirs or unassigned."""
    if by is None:
        return
    check_site(by, work_order.site_id)
    if not may_change_work(by):
        raise NotPermitted(CUSTOMER_VIEWERS_READ)
    if by.is_technician and work_order.assignee_id not in (None, by.pk):
        raise NotPermitted(f"{work_order.number} is assigned to someone else.")


def check_open_field_work(work_order, by) -> None:
    """`check_field_work`, and the work order is not closed or cancelled (notes, photos,
    labour are taken on open and completed work)."""
    check_field_work(work_order, by)
    if work_order.status in FINAL_STATUSES:
        raise TransitionNotAllowed(f"{work_order.number} is {work_order.status}.")


def check_step_record(work_order, by, *, step=None, done: bool = True) -> None:
    """Raise unless `by` may tick the work order's checklist now; with `step`, that step
    (ticked or unticked as `done` says): a safety step is confirmed before the work starts
    and stays confirmed while it runs."""
    check_field_work(work_order, by)
    if step is not None and step.is_safety:
        if work_order.status not in SAFETY_STEP_STATUSES:
            raise TransitionNotAllowed(
                "Safety steps are confirmed on scheduled, running or completed work; "
                f"{work_order.number} is {work_order.status}."
            )
        if not done and step.done and work_order.status in SAFETY_LOCKED_STATUSES:
            raise ConflictError(
                f"Step {step.position} is a safety step of work that has started: its "
                "confirmation stands until the work is done.",
                code="safety_step_confirmed",
            )
    elif work_order.status not in CHECKLIST_STATUSES:
        raise TransitionNotAllowed("Start the work order before ticking its checklist.")
    check_client_approved(work_order)


def check_step_edit(work_order, step, *, kind, photo_required) -> None:
    """Raise unless a planner may make the checklist step `step` (None: a new one) a step of
    `kind` with `photo_required` (`kind` None: remove it) on this work order now.

    A safety step holds the start back; once the work has started (running or on hold) one
    added now would hold nothing back while people already work, so a step does not become a
    safety step then: isolate the energy under new work. A confirmed safety step (and every
    safety step of started work) is the record of what the work was started on: it is not
    changed or removed (before the start, undo the confirmation first). A ticked task does
    not become a safety step: its tick would read as a confirmation.
    """
    started = work_order.status in SAFETY_LOCKED_STATUSES
    was_safety = step is not None and step.is_safety
    if kind in SAFETY_STEP_KINDS and not was_safety:
        if started:
            raise ConflictError(
                f"{work_order.number} has started: a safety step added now would not hold the "
                "work back. Isolate the energy under new work (a work order with the safety "
                "step), or pause this one and raise that.",
                code="safety_step_after_start",
            )
        if step is not None and step.done:
            raise ConflictError(
                f"Step {step.position} is ticked: it cannot become a safety step, whose tick "
                "is a confirmation. Add a new safety step.",
                code="safety_step_ticked",
            )
    changes_safety = was_safety and (kind != step.kind or photo_required != step.photo_required)
    if changes_safety and (started or safety_step_confirmed(work_order, step)):
        raise ConflictError(
            f"Step {step.position} is a confirmed safety step: it stays as it is "
            + (
                "until the work is done."
                if started
                else "(undo its confirmation first to change or remove it)."
            ),
            code="safety_step_confirmed",
        )


def safety_step_confirmed(work_order, step) -> bool:
    """Whether the safety step's confirmation stands for the work's current round.

    The isolation confirmed before completed work was completed was for the finished job (the
    energy is usually back once it is done): reopening the work needs the steps confirmed
    again, after the completion.
    """
    if not step.done:
        return False
    if work_order.status == Status.COMPLETED and work_order.completed_at and step.done_at:
        return step.done_at >= work_order.completed_at
    return True


def unconfirmed_safety_steps(work_order) -> list:
    """The work order's safety steps not confirmed (for this round) yet, in checklist order."""
    return [
        step
        for step in work_order.steps.all()
        if step.kind in SAFETY_STEP_KINDS and not safety_step_confirmed(work_order, step)
    ]


def check_safety_steps_confirmed(work_order) -> None:
    """Raise (code `safety_steps_unconfirmed`) naming the safety steps not confirmed yet: the
    work does not start (or resume) until every one is."""
    unconfirmed = unconfirmed_safety_steps(work_order)
    if unconfirmed:
        listed = "; ".join(f"{step.position}. {step.text}" for step in unconfirmed)
        raise ConflictError(
            f"Confirm the safety steps before starting {work_order.number}: {listed}.",
            code=SAFETY_STEPS_UNCONFIRMED,
        )


def check_part_issue(work_order, by) -> None:
    """Raise unless `by` may issue parts to the work order now."""
    check_field_work(work_order, by)
    if work_order.status not in PARTS_STATUSES:
        raise TransitionNotAllowed(
            f"Parts are issued to scheduled or running work; {work_order.number} is "
            f"{work_order.status}."
        )
    check_client_approved(work_order)


def check_labour(work_order, by) -> None:
    """Raise unless `by` may record labour on the work order now: field work, not while the
    client's approval is pending or refused (notes and photos stay possible)."""
    check_field_work(work_order, by)
    check_client_approved(work_order)


def check_assignee(work_order, assignee) -> None:
    """Raise unless `assignee` may be given the work order: an active technician of its site."""
    if assignee is None:
        return
    if not account_policy.may_be_assigned(assignee):
        raise ValidationError({"assignee": f"{assignee} is not an active technician."})
    if not assignee.may_see_site(work_order.site_id):
        raise ValidationError({"assignee": f"{assignee} does not work at site {work_order.site}."})


def assignable_technicians(user, *, site=None):
    """The people `user` may give work to (at `site`, when given): active technicians they
    see. `check_assignee` still decides per work order."""
    technicians = account_policy.assignable(visible_users(user))
    return technicians.filter(sites=site) if site is not None else technicians


def check_transition(work_order, to: str, *, by, reason: str = "") -> None:
    """Raise unless `by` may move the work order to `to` now. Call while holding the row lock."""
    current = work_order.status
    if to not in Status.values:
        raise ValidationError({"to": f"{to!r} is not a work order status."})
    if to not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none (final status)"
        raise TransitionNotAllowed(
            f"{work_order.number} cannot go from {current} to {to}; allowed: {allowed}.",
            code="illegal_transition",
        )
    if by is not None:
        check_site(by, work_order.site_id)
        if not may_change_work(by):
            raise NotPermitted(CUSTOMER_VIEWERS_READ)
        if not by.is_planner:
            if (current, to) in PLANNER_ONLY_TRANSITIONS:
                raise NotPermitted(f"Only planners move work from {current} to {to}.")
            if work_order.assignee_id not in (None, by.pk):
                raise NotPermitted(f"{work_order.number} is assigned to someone else.")
    check_client_approval(work_order, to)
    if to == Status.IN_PROGRESS:
        check_safety_steps_confirmed(work_order)
    if to in (Status.ON_HOLD, Status.CANCELLED) and not reason.strip():
        raise ValidationError({"reason": f"Give a reason to put work {to.replace('_', ' ')}."})
    if to == Status.COMPLETED and work_order.type in FAILURE_CODES_REQUIRED:
        missing = [
            f for f in ("problem", "cause", "remedy") if getattr(work_order, f"{f}_id") is None
        ]
        if missing:
            raise ValidationError(
                {f: "Required to complete corrective and condition-based work." for f in missing}
            )


def check_client_approval(work_order, to: str) -> None:
    """Raise when the client's approval holds the work back from `to` (see
    CLIENT_APPROVAL_GATED): it is pending, or the client rejected the estimate (a planner
    re-estimates or cancels)."""
    if to in CLIENT_APPROVAL_GATED:
        check_client_approved(work_order)


def check_client_approved(work_order) -> None:
    """Raise while the client's approval of the work's estimate is pending or rejected: no
    planning, labour, parts or checklist on it until the client approves (or a planner
    re-estimates within the limit or cancels)."""
    if work_order.client_approval == ClientApproval.PENDING:
        raise TransitionNotAllowed(
            f"{work_order.number} waits for the client to approve its estimate.",
            code="client_approval_pending",
        )
    if work_order.client_approval == ClientApproval.REJECTED:
        raise TransitionNotAllowed(
            f"The client rejected the estimate of {work_order.number}; re-estimate or cancel it.",
            code="client_approval_rejected",
        )


def allowed_transitions(user, work_order) -> frozenset[str]:
    """The statuses `user` may move the work order to now. A change that only lacks input
    (a reason, failure codes) counts as allowed: the form asks for it."""
    return frozenset(
        to
        for to in TRANSITIONS[work_order.status]
        if _allows(check_transition, work_order, to, by=user, reason="-")
    )


def may_do_field_work(user, work_order) -> bool:
    """Whether to offer `user` the field work forms (labour, notes, photos) on this work order."""
    return _allows(check_open_field_work, work_order, user)


def may_record_steps(user, work_order) -> bool:
    """Whether to offer `user` the checklist forms on this work order now."""
    return _allows(check_step_record, work_order, user)


def may_confirm_safety_step(user, work_order, step) -> bool:
    """Whether to offer `user` the confirm form of this safety step now."""
    return _allows(check_step_record, work_order, user, step=step)


def may_unconfirm_safety_step(user, work_order, step) -> bool:
    """Whether to offer `user` the undo of this confirmed safety step now."""
    return _allows(check_step_record, work_order, user, step=step, done=False)


def start_refusal(user, work_order) -> str:
    """Why `user` may not start (or resume) the work order yet because of its safety steps,
    or "" when that is not what holds it back (the Start button says so, disabled)."""
    try:
        check_transition(work_order, Status.IN_PROGRESS, by=user)
    except ServiceError as error:
        return error.message if error.code == SAFETY_STEPS_UNCONFIRMED else ""
    except ValidationError:
        return ""
    return ""


def may_issue_parts(user, work_order) -> bool:
    """Whether to offer `user` the parts forms on this work order now."""
    return _allows(check_part_issue, work_order, user)


def _allows(check, *args, **kwargs) -> bool:
    """Whether `check` lets the action through; one that only lacks input still does."""
    try:
        check(*args, **kwargs)
    except ValidationError:
        return True
    except ServiceError:
        return False
    return True
