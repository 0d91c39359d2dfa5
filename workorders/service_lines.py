"""External service lines on a work order: a vendor's repair, a crane hire, a lab test.

Planners record them (a vendor's invoice reaches the office, not the field), on any work order
of their sites whatever its status: invoices often arrive after the work is completed, and
cancelled work may still have cost something. Technicians and customer viewers do not write
them. The amount is in the customer's currency and counts in the work order's cost
(workorders.costs) at the line's `created_at`.

Every add, correction and deletion goes into the audit trail and on the work order's timeline
with the amount before and after: a service line changes what the client is billed. The
timeline message names the vendor only; the amounts are in the event's data (customer viewers
read the timeline and never see the partner's costs).
"""

from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from audit.choices import AuditAction
from audit.services import audit_record
from cmms.rows import UNCHANGED, given
from workorders.choices import EventKind
from workorders.models import ServiceLine, WorkOrder, WorkOrderEvent
from workorders.policy import check_planning

REFUSAL = "Only planners of the site record external services."


def _amount(amount) -> Decimal:
    try:
        amount = Decimal(amount)
    except (ArithmeticError, TypeError, ValueError):
        raise ValidationError({"amount": "Give the amount as a number."}) from None
    if not amount.is_finite() or amount < 0:
        raise ValidationError({"amount": "An amount cannot be negative."})
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _saved(line: ServiceLine, **values) -> ServiceLine:
    for name, value in values.items():
        setattr(line, name, value.strip() if isinstance(value, str) else value)
    line.full_clean()
    line.save()
    return line


def _trace(line: ServiceLine, action: str, verb: str, *, before, after, by, changes) -> None:
    """Audit entry and timeline event for a change to a service line (amounts before/after)."""
    work_order = line.work_order
    user = by if by is not None and by.is_authenticated else None
    WorkOrderEvent.objects.create(
        work_order=work_order,
        kind=EventKind.SERVICE_LINE,
        message=f"External service {verb}: {line.vendor}",
        created_by=user,
        data={
            "service_line": line.pk,
            "amount_before": str(before) if before is not None else None,
            "amount_after": str(after) if after is not None else None,
        },
    )
    audit_record(by=by, action=action, obj=line, site=work_order.site, changes=changes)


@transaction.atomic
def service_line_add(
    *, work_order: WorkOrder, vendor: str, description: str, amount, by
) -> ServiceLine:
    """Record an external service bought for the work order."""
    check_planning(by, work_order.site_id, refusal=REFUSAL)
    line = _saved(
        ServiceLine(work_order=work_order, created_by=by),
        vendor=vendor,
        description=description,
        amount=_amount(amount),
    )
    _trace(
        line,
        AuditAction.SERVICE_LINE_ADD,
        "added",
        before=None,
        after=line.amount,
        by=by,
        changes={
            "work_order": work_order.number,
            "vendor": line.vendor,
            "description": line.description,
            "amount": [None, line.amount],
        },
    )
    return line


@transaction.atomic
def service_line_update(
    *,
    line: ServiceLine,
    by,
    vendor: str = UNCHANGED,
    description: str = UNCHANGED,
    amount=UNCHANGED,
) -> ServiceLine:
    """Correct a service line (its work order and time stay)."""
    check_planning(by, line.work_order.site_id, refusal=REFUSAL)
    if amount is not UNCHANGED:
        amount = _amount(amount)
    values = given(vendor=vendor, description=description, amount=amount)
    before = {name: getattr(line, name) for name in ("vendor", "description", "amount")}
    _saved(line, **values)
    changes = {
        name: [before[name], getattr(line, name)]
        for name in before
        if before[name] != getattr(line, name)
    }
    if changes:
        changes["amount"] = [before["amount"], line.amount]
        _trace(
            line,
            AuditAction.SERVICE_LINE_UPDATE,
            "changed",
            before=before["amount"],
            after=line.amount,
            by=by,
            changes=changes,
        )
    return line


@transaction.atomic
def service_line_delete(*, line: ServiceLine, by) -> None:
    """Remove a line recorded by mistake."""
    check_planning(by, line.work_order.site_id, refusal=REFUSAL)
    _trace(
        line,
        AuditAction.SERVICE_LINE_DELETE,
        "deleted",
        before=line.amount,
        after=None,
        by=by,
        changes={
            "work_order": line.work_order.number,
            "vendor": line.vendor,
            "description": line.description,
            "amount": [line.amount, None],
        },
    )
    line.delete()
