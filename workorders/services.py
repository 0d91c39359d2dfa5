"""Writes to work orders: creation, the enforced lifecycle, assignment, checklist, labour, parts.

Every caller (API, admin, technician pages, Celery tasks) goes through these functions, so the
lifecycle, permission and stock rules are the same everywhere. `by=None` means the system.
"""

from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from assets import services as asset_services
from assets.models import Stock
from cmms.errors import NotPermitted, TransitionNotAllowed
from cmms.roles import Role
from cmms.rows import UNCHANGED, adopt_row, given_fields
from contracts import sla
from workorders import approvals, costs, creation, outbound, policy, signatures
from workorders.approvals import work_order_client_decide, work_order_estimate_set  # noqa: F401
from workorders.choices import (
    EventKind,
    FailureCodeKind,
    HoldReason,
    Source,
    Status,
)
from workorders.models import (
    ChecklistStep,
    FailureCode,
    LabourEntry,
    PartReservation,
    ReorderSuggestion,
    StatusChange,
    WorkOrder,
    WorkOrderEvent,
)

_RELATED_FIELDS = [f.name for f in WorkOrder._meta.concrete_fields if f.is_relation]

EDITABLE_FIELDS = frozenset(
    {
        "title",
        "description",
        "priority",
        "type",
        "asset",
        "due_at",
        "scheduled_start",
        "estimated_hours",
        "required_skill",
        "problem",
        "cause",
        "remedy",
        "needs_attention",
    }
)


def _check_failure_codes(work_order: WorkOrder) -> None:
    for field, kind in (
        ("problem", FailureCodeKind.PROBLEM),
        ("cause", FailureCodeKind.CAUSE),
        ("remedy", FailureCodeKind.REMEDY),
    ):
        code = getattr(work_order, field)
        if code is not None and code.kind != kind:
            raise ValidationError({field: f"{code.code} is a {code.kind} code, not a {kind}."})


def _check_created_estimate(work_order: WorkOrder) -> None:
    """Planned work (approved, scheduled) may not be born waiting for the client: its estimate
    above the contract's limit is refused (docs/contracts.md). A request with such an estimate
    is created and waits for the client."""
    if work_order.status != Status.REQUESTED and approvals.needs_client_approval(work_order):
        raise ValidationError(
            {
                "estimated_cost": (
                    f"{work_order.estimated_cost} is above the contract's limit of "
                    f"{approvals.approval_limit(work_order)}: the client approves it first. "
                    "Create the work as requested."
                )
            }
        )


@transaction.atomic
def work_order_create(
    *,
    site,
    title: str,
    by=None,
    asset=None,
    status: str = Status.REQUESTED,
    source: str = Source.MANUAL,
    assignee=None,
    steps: Iterable[str | dict] = (),
    event: str = "",
    reserve_parts: bool = False,
    **fields,
) -> WorkOrder:
    """Create a work order (with its checklist) in an initial status and record its history.

    `event` puts a creation entry on its timeline; `reserve_parts` reserves its job plan's
    parts (see `work_order_reserve_job_plan_parts`). Many at once: `workorders.bulk`.
    """
    if status not in (Status.REQUESTED, Status.APPROVED, Status.SCHEDULED):
        raise ValidationError(
            {"status": "A new work order starts requested, approved or scheduled."}
        )
    if by is not None:
        policy.check_site(by, site.pk)
        if not policy.may_plan(by) and status != Status.REQUESTED:
            raise NotPermitted("Only planners create approved or scheduled work.")
        if by.is_customer_viewer:
            source = Source.REQUEST
    if asset is not None and asset.site_id != site.pk:
        raise ValidationError({"asset": "The asset belongs to another site."})
    work_order = WorkOrder(
        site=site,
        asset=asset,
        title=title,
        status=status,
        source=source,
        requested_by=by,
        assignee=assignee,
        **fields,
    )
    policy.check_assignee(work_order, assignee)
    _check_failure_codes(work_order)
    # The contract covering the work starts its SLA clock (contracts.sla), in the same INSERT.
    for name, value in sla.sla_fields_for_new(
        site=site,
        asset_id=work_order.asset_id,
        priority=work_order.priority,
        work_type=work_order.type,
        at=work_order.created_at,
    ).items():
        setattr(work_order, name, value)
    for name, value in signatures.signature_rules(
        job_plan=work_order.job_plan, contract=work_order.contract
    ).items():
        setattr(work_order, name, value)
    _check_created_estimate(work_order)
    # Related objects arrive as instances (their existence is known, and foreign keys hold it in
    # the database); constraints are enforced by the database too. Skipping their validation
    # queries keeps creation cheap on the alert pipeline's hot path.
    work_order.full_clean(exclude=["number", *_RELATED_FIELDS], validate_constraints=False)
    work_order.save()  # the database computes the number; RETURNING brings it back
    _create_children(work_order, by=by, steps=steps, event=event)
    if work_order.estimated_cost is not None:
        approvals.apply_estimate(work_order, by=by)
        work_order.save(update_fields=approvals.APPROVAL_FIELDS)
    if reserve_parts:
        work_order_reserve_job_plan_parts(work_order=work_order)
    outbound.work_order_created_announce(work_order)
    return work_order


def _create_children(work_order: WorkOrder, *, by, steps, event: str) -> None:
    """First history row, checklist and creation event, as `workorders.bulk` writes them."""
    now = timezone.now()
    StatusChange.objects.create(
        **creation.initial_status_change(
            work_order_id=work_order.pk, status=work_order.status, by=by, at=now
        )
    )
    ChecklistStep.objects.bulk_create(
        ChecklistStep(**row) for row in creation.checklist(work_order_id=work_order.pk, steps=steps)
    )
    if event:
        WorkOrderEvent.objects.create(
            **creation.creation_event(work_order_id=work_order.pk, message=event, by=by, at=now)
        )


@transaction.atomic
def work_order_update(
    *,
    work_order: WorkOrder,
    by=None,
    title: str = UNCHANGED,
    description: str = UNCHANGED,
    priority: int = UNCHANGED,
    type: str = UNCHANGED,
    asset=UNCHANGED,
    due_at=UNCHANGED,
    scheduled_start=UNCHANGED,
    estimated_hours=UNCHANGED,
    required_skill=UNCHANGED,
    problem=UNCHANGED,
    cause=UNCHANGED,
    remedy=UNCHANGED,
    needs_attention: str = UNCHANGED,
    assignee=UNCHANGED,
) -> WorkOrder:
    """Change a work order's planning fields (EDITABLE_FIELDS) and its assignee. Status, site
    and number are not editable here."""
    fields = given_fields(locals(), WorkOrder)
    return _replan(work_order, fields, by=by)


def _replan(work_order: WorkOrder, fields: dict, *, by) -> WorkOrder:
    """`work_order_update` with the fields given."""
    policy.check_planning(
        by, work_order.site_id, refusal="Only planners change the planning of a work order."
    )
    if not work_order.is_open and set(fields) - {"problem", "cause", "remedy"}:
        raise TransitionNotAllowed(f"{work_order.number} is {work_order.status}; it cannot change.")
    asset = fields.get("asset", work_order.asset)
    if asset is not None and asset.site_id != work_order.site_id:
        raise ValidationError({"asset": "The asset belongs to another site."})
    assignee_given = "assignee" in fields
    assignee = fields.pop("assignee", None)
    old_priority = work_order.priority
    for name, value in fields.items():
        setattr(work_order, name, value)
    _check_failure_codes(work_order)
    work_order.full_clean(exclude=["number"])
    if work_order.priority != old_priority:
        # A new priority has its own targets: the due dates follow it.
        sla.clock_follow(work_order, now=timezone.now(), reschedule=True)
    work_order.save()
    if work_order.priority != old_priority:
        _event(
            work_order,
            EventKind.PRIORITY,
            f"Priority {old_priority} → {work_order.priority}",
            by,
            {"from": old_priority, "to": work_order.priority},
        )
    if assignee_given and assignee != work_order.assignee:
        work_order_assign(work_order=work_order, assignee=assignee, by=by)
    return work_order


def _event(work_order, kind, message, by=None, data=None) -> WorkOrderEvent:
    return WorkOrderEvent.objects.create(
        work_order=work_order, kind=kind, message=message, created_by=by, data=data or {}
    )


@transaction.atomic
def work_order_assign(*, work_order: WorkOrder, assignee, by=None) -> WorkOrder:
    """Give the work order to a technician of its site (or None to unassign)."""
    policy.check_planning(by, work_order.site_id, refusal="Only planners assign work.")
    if not work_order.is_open:
        raise TransitionNotAllowed(
            f"{work_order.number} is {work_order.status}; it cannot be assigned."
        )
    policy.check_assignee(work_order, assignee)
    work_order.assignee = assignee
    work_order.save(update_fields=["assignee", "updated_at"])
    _event(
        work_order,
        EventKind.ASSIGNED,
        f"Assigned to {assignee.get_username()}" if assignee else "Unassigned",
        by,
        {"assignee": assignee.pk if assignee else None},
    )
    outbound.work_order_assigned_announce(work_order)
    return work_order


@transaction.atomic
def work_order_transition(
    *,
    work_order: WorkOrder,
    to: str,
    by=None,
    reason: str = "",
    hold_reason: str = "",
    **completion,
) -> WorkOrder:
    """Move a work order along its lifecycle, recording who, when, from and to.

    `hold_reason` is the code of a hold (a HoldReason; `other` when not given), which may stop
    the contract's SLA clock; `completion` may carry problem/cause/remedy codes set together
    with completing.
    """
    if hold_reason and hold_reason not in HoldReason.values:
        raise ValidationError({"hold_reason": f"Not a hold reason: one of {HoldReason.values}."})
    locked = WorkOrder.objects.select_for_update().get(pk=work_order.pk)
    for name in ("problem", "cause", "remedy"):
        if completion.get(name) is not None:
            setattr(locked, name, completion[name])
    _check_failure_codes(locked)
    policy.check_transition(locked, to, by=by, reason=reason)
    if to == Status.COMPLETED:
        signatures.check_signed(locked)
    now = timezone.now()
    previous = locked.status
    _apply_side_effects(locked, previous, to, by=by, now=now, reason=reason)
    if previous == Status.COMPLETED and to == Status.IN_PROGRESS:
        signatures.signatures_supersede(locked, by=by, now=now)
    locked.hold_reason = (hold_reason or HoldReason.OTHER) if to == Status.ON_HOLD else ""
    locked.status = to
    sla.clock_follow(locked, now=now)
    locked.save()
    StatusChange.objects.create(
        work_order=locked,
        from_status=previous,
        to_status=to,
        reason=reason,
        changed_by=by,
        changed_at=now,
    )
    if to == Status.CANCELLED:
        approvals.approval_withdraw(locked, by=by)
    adopt_row(work_order, locked)
    outbound.work_order_transition_announce(locked, previous=previous)
    return work_order


def _apply_side_effects(wo: WorkOrder, previous: str, to: str, *, by, now, reason: str) -> None:
    if to == Status.IN_PROGRESS:
        wo.started_at = wo.started_at or now
        wo.on_hold_reason = ""
        if previous == Status.COMPLETED:
            wo.completed_at = None
        technician = by if by is not None and by.role == Role.TECHNICIAN else wo.assignee
        if by is not None and by.role == Role.TECHNICIAN and wo.assignee_id is None:
            wo.assignee = by
        if technician is not None:
            LabourEntry.objects.create(
                work_order=wo, technician=technician, started_at=now, automatic=True
            )
    elif to == Status.ON_HOLD:
        wo.on_hold_reason = reason.strip()
        _stop_clock(wo, now)
    elif to == Status.COMPLETED:
        wo.completed_at = now
        _stop_clock(wo, now)
        _release_reservations(wo)
    elif to == Status.CLOSED:
        wo.closed_at = now
    elif to == Status.CANCELLED:
        _stop_clock(wo, now)
        wo.closed_at = now
        _release_reservations(wo)


def _stop_clock(wo: WorkOrder, now) -> None:
    """Close the automatic labour entries that are running and total the actual hours."""
    for entry in wo.labour.filter(ended_at__isnull=True):
        entry.ended_at = now
        seconds = (now - entry.started_at).total_seconds()
        entry.hours = (Decimal(seconds) / 3600).quantize(Decimal("0.01"))
        costs.labour_entry_price(entry, work_order=wo)
        entry.save(update_fields=["ended_at", "hours", "cost_rate", "cost"])
    wo.actual_hours = wo.labour.aggregate(total=Sum("hours"))["total"] or Decimal("0")


def _release_reservations(wo: WorkOrder) -> None:
    """Give back reserved parts that finished or cancelled work will not use."""
    for reservation in wo.reservations.select_related("stock").filter(issued__lt=F("quantity")):
        asset_services.stock_release(stock=reservation.stock, quantity=reservation.outstanding)
        reservation.quantity = reservation.issued
        if reservation.quantity == 0:
            reservation.delete()
        else:
            reservation.save(update_fields=["quantity"])
    if wo.waiting_for_parts:
        wo.waiting_for_parts = False


@transaction.atomic
def labour_add(
    *,
    work_order: WorkOrder,
    technician,
    hours,
    by=None,
    started_at=None,
    note: str = "",
    overtime: bool = False,
) -> LabourEntry:
    """Record labour by hand (time not captured by start/pause/complete); its hours are final,
    so its cost is priced now (workorders.costs.labour_entry_price)."""
    hours = Decimal(hours)
    if hours <= 0 or hours > 24:
        raise ValidationError({"hours": "Hours must be more than 0 and at most 24."})
    policy.check_labour(work_order, by)
    if not policy.may_plan(by) and technician != by:
        raise NotPermitted("Technicians record their own time only.")
    if technician.is_customer_viewer or not technician.may_see_site(work_order.site_id):
        raise ValidationError({"technician": f"{technician} does not work at this site."})
    if work_order.status in (Status.CLOSED, Status.CANCELLED):
        raise TransitionNotAllowed(f"{work_order.number} is {work_order.status}.")
    now = timezone.now()
    if started_at is not None and started_at > now:
        raise ValidationError({"started_at": "Labour cannot start in the future."})
    started_at = started_at or now - timezone.timedelta(hours=float(hours))
    entry = LabourEntry(
        work_order=work_order,
        technician=technician,
        started_at=started_at,
        ended_at=started_at + timezone.timedelta(hours=float(hours)),
        hours=hours,
        note=note,
        overtime=bool(overtime),
    )
    costs.labour_entry_price(entry, work_order=work_order)
    entry.save()
    total = work_order.labour.aggregate(total=Sum("hours"))["total"] or Decimal("0")
    WorkOrder.objects.filter(pk=work_order.pk).update(actual_hours=total)
    work_order.actual_hours = total
    return entry


@transaction.atomic
def checklist_step_record(
    *,
    step: ChecklistStep,
    by,
    done: bool = True,
    result: str = "",
    value=None,
    photo_given: bool = False,
) -> ChecklistStep:
    """Tick (or untick) a checklist step with its result or measured value.

    Ticking a safety step confirms it (who and when, on the timeline), also before the work
    starts; `photo_given` says the caller attached a photo to the step in this transaction
    (`tech.services.work_order_photo_add(step=...)`), which a `photo_required` step needs.
    Confirming a confirmed safety step again keeps who confirmed it first, and when, unless
    that confirmation was for an earlier round of the work (`policy.safety_step_confirmed`:
    completed work is confirmed again before it reopens). The work
    order's row is locked for a safety step, so a confirmation and the start (which checks
    them all under the same lock) cannot pass each other.
    """
    if step.is_safety:
        locked = WorkOrder.objects.select_for_update().get(pk=step.work_order_id)
        adopt_row(step, ChecklistStep.objects.select_for_update().get(pk=step.pk))
        step.work_order = locked
    work_order = step.work_order
    policy.check_step_record(work_order, by, step=step, done=done)
    if step.is_safety and done and policy.safety_step_confirmed(work_order, step):
        return step
    if done and step.requires_value and value is None:
        raise ValidationError({"value": f"Step {step.position} needs a measured value."})
    if done and step.is_safety and step.photo_required and not photo_given:
        raise ValidationError(
            {"photo": f"Step {step.position} is confirmed with a photo: take one to confirm it."}
        )
    was_done = step.done
    step.done = done
    step.result = result
    step.value = value
    step.done_by = by if done else None
    step.done_at = timezone.now() if done else None
    step.save()
    if step.is_safety and (done or was_done):
        # A confirmation reaching here is new: for the first time, or again for reopening.
        verb = ("confirmed again" if was_done else "confirmed") if done else "unconfirmed"
        _event(
            work_order,
            EventKind.SAFETY,
            f"Safety step {step.position} {verb}: {step.text}",
            by,
            {"step": step.pk, "kind": step.kind, "confirmed": done, "photo": photo_given},
        )
    return step


@transaction.atomic
def work_order_issue_part(*, work_order: WorkOrder, stock, quantity, by=None):
    """Issue parts from a storeroom of the work order's site to the work order (ledger row)."""
    policy.check_part_issue(work_order, by)
    reservation = (
        PartReservation.objects.select_for_update()
        .filter(work_order=work_order, stock=stock, issued__lt=F("quantity"))
        .first()
    )
    from_reservation = min(Decimal(quantity), reservation.outstanding) if reservation else 0
    movement = asset_services.stock_issue(
        stock=stock, quantity=quantity, work_order=work_order, by=by, reserved=from_reservation
    )
    if reservation is not None and from_reservation:
        reservation.issued += from_reservation
        reservation.save(update_fields=["issued"])
    _event(
        work_order,
        EventKind.PARTS,
        f"Issued {quantity} {stock.part.unit} of {stock.part.sku}",
        by,
        {"stock": stock.pk, "quantity": str(quantity)},
    )
    return movement


def failure_code(kind: str, code: str) -> FailureCode:
    return FailureCode.objects.get(kind=kind, code=code)


def job_plan_steps(job_plan) -> list[dict]:
    """The job plan's checklist as step dicts for `work_order_create(steps=...)`."""
    return [
        creation.job_plan_step(s.text, s.requires_value, s.unit, s.kind, s.photo_required)
        for s in job_plan.steps.all()
    ]


@transaction.atomic
def work_order_reserve_parts(*, work_order: WorkOrder) -> bool:
    """Reserve the parts of the work order's job plan from its site's storerooms.

    A shortfall reserves what there is, flags the work order `waiting_for_parts` (saved by
    the caller), records it on the timeline and raises a reorder suggestion for the planner.
    Returns whether everything was reserved.
    """
    complete = True
    for needed in work_order.job_plan.parts.all():
        outstanding = needed.quantity
        stocks = list(
            Stock.objects.filter(storeroom__site_id=work_order.site_id, part_id=needed.part_id)
            .select_related("part", "storeroom")
            .order_by("storeroom__code")
        )
        for stock in stocks:
            if outstanding <= 0:
                break
            granted = asset_services.stock_reserve(stock=stock, quantity=outstanding)
            if granted > 0:
                PartReservation.objects.create(work_order=work_order, stock=stock, quantity=granted)
                outstanding -= granted
        if outstanding > 0:
            complete = False
            storeroom = stocks[0].storeroom if stocks else work_order.site.storerooms.first()
            if storeroom is not None:
                ReorderSuggestion.objects.create(
                    part_id=needed.part_id,
                    storeroom=storeroom,
                    quantity=outstanding,
                    work_order=work_order,
                )
    if not complete:
        work_order.waiting_for_parts = True
        _event(
            work_order,
            EventKind.PARTS,
            "Not all parts of the job plan could be reserved: waiting for parts.",
        )
    return complete


def work_order_reserve_job_plan_parts(*, work_order: WorkOrder) -> bool:
    """Reserve the job plan's parts of a new work order and save the outcome: a shortfall adds
    "Waiting for parts" to what needs the planner's attention. Returns whether all were
    reserved."""
    if work_order_reserve_parts(work_order=work_order):
        return True
    work_order.needs_attention = "; ".join(
        filter(None, [work_order.needs_attention, "Waiting for parts"])
    )[:200]
    work_order.save(update_fields=["needs_attention", "waiting_for_parts", "updated_at"])
    return False
