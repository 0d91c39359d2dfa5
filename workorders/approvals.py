"""Client approval: work estimated above its contract's not-to-exceed amount waits for the client.

The estimate is the planner's (`work_order_estimate_set`, or `estimated_cost` at creation); the
decision is the client's (`work_order_client_decide`, by a customer viewer of the work's site).
While the approval is pending or rejected the lifecycle refuses to approve, schedule or start
the work (`policy.check_client_approval`); cancelling stays possible.

An estimate at or under the limit needs no approval: a pending request is withdrawn, and a
rejection is lifted (the client rejected a dearer estimate; the new one is within what the
contract lets the partner do without asking). An approval given stays on record. Re-sending the
same estimate changes nothing. After an approval, an estimate above the limit asks again only
when it exceeds the amount the client approved (read from the approval's timeline event).

Running work (in progress) cannot be re-estimated above the limit into a pending approval: the
change is refused (409, `client_approval_running_work`); the planner puts the work on hold
(waiting for the client) first. Cancelling work withdraws a pending request; the client decides
only on open work.

Each request and decision goes on the work order's timeline and into the audit trail.
`workorders.services` re-exports both services.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.choices import AuditAction
from audit.services import audit_record
from cmms.errors import NotPermitted, TransitionNotAllowed
from contracts import sla
from contracts.choices import ClientApproval
from workorders import policy
from workorders.choices import OPEN_STATUSES, EventKind, Status
from workorders.models import WorkOrder, WorkOrderEvent

APPROVAL_FIELDS = [
    "estimated_cost",
    "client_approval",
    "client_approval_by",
    "client_approval_at",
    "client_approval_comment",
    "updated_at",
]
COMMENT_MAX = WorkOrder._meta.get_field("client_approval_comment").max_length


def approval_limit(work_order: WorkOrder) -> Decimal | None:
    """The amount above which the client approves this work (None: no limit)."""
    contract = work_order.contract
    return contract.not_to_exceed if contract is not None else None


def needs_client_approval(work_order: WorkOrder) -> bool:
    """Whether the work's estimate is above its contract's not-to-exceed amount."""
    limit = approval_limit(work_order)
    estimate = work_order.estimated_cost
    return limit is not None and estimate is not None and estimate > limit


@transaction.atomic
def work_order_estimate_set(*, work_order: WorkOrder, estimated_cost, by=None) -> WorkOrder:
    """Set (or clear, None) the estimated cost of open work; planners of its site.

    Above the contract's not-to-exceed amount the client is asked (again); see the module.
    """
    policy.check_planning(by, work_order.site_id, refusal="Only planners estimate work.")
    locked = _locked_open(work_order, refusal="its estimate cannot change")
    if estimated_cost is not None and estimated_cost < 0:
        raise ValidationError({"estimated_cost": "An estimate cannot be negative."})
    previous = locked.estimated_cost
    if previous == estimated_cost:
        _adopt(work_order, locked)  # the same estimate again: the client's decision stands
        return work_order
    locked.estimated_cost = estimated_cost
    locked.full_clean(exclude=["number"], validate_constraints=False)
    if locked.status == Status.IN_PROGRESS and _asks_client(locked):
        raise TransitionNotAllowed(
            f"{locked.number} is in progress: put it on hold (waiting for the client) before "
            "raising its estimate above the contract's limit.",
            code="client_approval_running_work",
        )
    if previous != estimated_cost:
        audit_record(
            by=by,
            action=AuditAction.WORK_ORDER_ESTIMATE,
            obj=locked,
            site=locked.site,
            changes={"estimated_cost": [previous, estimated_cost]},
        )
    apply_estimate(locked, by=by)
    locked.save(update_fields=APPROVAL_FIELDS)
    _adopt(work_order, locked)
    return work_order


def apply_estimate(work_order: WorkOrder, *, by) -> None:
    """Set the approval the work's estimate calls for (the caller saves the row; it holds the
    row lock or has just created it). Records a request on the timeline and the audit trail."""
    current = work_order.client_approval
    if needs_client_approval(work_order):
        if not _asks_client(work_order):
            return
        _set(work_order, ClientApproval.PENDING, by=None, comment="")
        currency = work_order.contract.currency
        message = (
            f"Client approval requested: estimate {work_order.estimated_cost} {currency} is "
            f"above the contract's limit of {approval_limit(work_order)} {currency}"
        )
        _record(work_order, AuditAction.CLIENT_APPROVAL_REQUEST, message, by=by)
        _approval_clock_changed(work_order, work_order.client_approval_at or timezone.now())
    elif current in (ClientApproval.PENDING, ClientApproval.REJECTED):
        _set(work_order, ClientApproval.NOT_REQUIRED, by=None, comment="")
        message = "Client approval no longer needed: the estimate is within the contract's limit"
        _record(work_order, AuditAction.CLIENT_APPROVAL_REQUEST, message, by=by)
        if current == ClientApproval.PENDING:
            _approval_clock_changed(work_order, timezone.now())


def _asks_client(work_order: WorkOrder) -> bool:
    """Whether the work's estimate starts a new request to the client: above the limit, not
    already pending, and (after an approval) above the amount the client approved."""
    if not needs_client_approval(work_order):
        return False
    if work_order.client_approval == ClientApproval.PENDING:
        return False
    if work_order.client_approval == ClientApproval.APPROVED:
        approved = approved_estimate(work_order)
        return approved is None or work_order.estimated_cost > approved
    return True


def approved_estimate(work_order: WorkOrder) -> Decimal | None:
    """The estimate the client last approved, from the approval's timeline event (None when
    the work carries no recorded approval)."""
    event = (
        WorkOrderEvent.objects.filter(
            work_order_id=work_order.pk,
            kind=EventKind.CLIENT_APPROVAL,
            data__client_approval=ClientApproval.APPROVED,
        )
        .order_by("-created_at", "-id")
        .first()
    )
    amount = event.data.get("estimated_cost") if event is not None else None
    return Decimal(amount) if amount is not None else None


def approval_withdraw(work_order: WorkOrder, *, by) -> None:
    """Withdraw a pending request when the work is cancelled: the client is no longer asked
    (client_approval back to not required), with a timeline event. The caller holds the row
    lock; the work's clock has stopped with the cancellation."""
    if work_order.client_approval != ClientApproval.PENDING:
        return
    _set(work_order, ClientApproval.NOT_REQUIRED, by=None, comment="")
    message = "Client approval withdrawn: the work was cancelled"
    _record(work_order, AuditAction.CLIENT_APPROVAL_REQUEST, message, by=by)
    work_order.save(update_fields=APPROVAL_FIELDS)


@transaction.atomic
def work_order_client_decide(
    *, work_order: WorkOrder, approve: bool, comment: str = "", by=None
) -> WorkOrder:
    """The client approves or rejects work waiting for them: a customer viewer of the work's
    site (or a superuser). A rejection says why."""
    if by is not None:
        policy.check_site(by, work_order.site_id)
        if not (by.is_superuser or by.is_customer_viewer):
            raise NotPermitted("Only the client (a customer viewer of the site) decides.")
    locked = _locked_open(
        work_order, refusal="it no longer waits for a decision", code="client_approval_not_pending"
    )
    if locked.client_approval != ClientApproval.PENDING:
        raise TransitionNotAllowed(
            f"{locked.number} is not waiting for the client's approval.",
            code="client_approval_not_pending",
        )
    comment = (comment or "").strip()
    if not approve and not comment:
        raise ValidationError({"comment": "Say why you reject the work."})
    if len(comment) > COMMENT_MAX:
        raise ValidationError({"comment": f"At most {COMMENT_MAX} characters."})
    decision = ClientApproval.APPROVED if approve else ClientApproval.REJECTED
    _set(locked, decision, by=by, comment=comment)
    message = f"Client {decision}" + (f": {comment}" if comment else "")
    _record(locked, AuditAction.CLIENT_APPROVAL_DECIDE, message, by=by)
    locked.save(update_fields=APPROVAL_FIELDS)
    _approval_clock_changed(locked, locked.client_approval_at)
    _adopt(work_order, locked)
    return work_order


def _locked_open(work_order: WorkOrder, *, refusal: str, code: str | None = None) -> WorkOrder:
    """The work order's row under a lock, with its contract; refused unless the work is open."""
    locked = (
        WorkOrder.objects.select_for_update(of=("self",))
        .select_related("contract")
        .get(pk=work_order.pk)
    )
    if locked.status not in OPEN_STATUSES:
        message = f"{locked.number} is {locked.status}; {refusal}."
        raise TransitionNotAllowed(message, **({"code": code} if code else {}))
    return locked


def _approval_clock_changed(work_order: WorkOrder, at) -> None:
    """The client approval started or stopped waiting: the SLA clock pauses or resumes when
    the contract says the client's decision stops it (`client_approval_pauses_clock`);
    `sla_refresh` reads that from the work order's fields and its contract."""
    sla.sla_refresh(work_order=work_order, now=at)


def _set(work_order: WorkOrder, approval: str, *, by, comment: str) -> None:
    work_order.client_approval = approval
    work_order.client_approval_by = by if by is not None and by.is_authenticated else None
    work_order.client_approval_at = timezone.now()
    work_order.client_approval_comment = comment


def _record(work_order: WorkOrder, action: str, message: str, *, by) -> None:
    user = by if by is not None and by.is_authenticated else None
    WorkOrderEvent.objects.create(
        work_order=work_order,
        kind=EventKind.CLIENT_APPROVAL,
        message=message,
        created_by=user,
        data={
            "client_approval": work_order.client_approval,
            "estimated_cost": str(work_order.estimated_cost)
            if work_order.estimated_cost is not None
            else None,
        },
    )
    audit_record(
        by=by,
        action=action,
        obj=work_order,
        site=work_order.site,
        changes={
            "client_approval": work_order.client_approval,
            "estimated_cost": work_order.estimated_cost,
            "comment": work_order.client_approval_comment,
        },
    )


def _adopt(work_order: WorkOrder, locked: WorkOrder) -> None:
    for name in APPROVAL_FIELDS:
        setattr(work_order, name, getattr(locked, name))
