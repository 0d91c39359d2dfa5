"""External service lines on a work order: a vendor's repair, a crane hire, a lab test.

Planners record them (a vendor's invoice reaches the office, not the field), on any work order
of their sites whatever its status: invoices often arrive after the work is completed, and
cancelled work may still have cost something. Technicians and customer viewers do not write
them. The amount is in the customer's currency and counts in the work order's cost
(workorders.costs) at the line's `created_at`.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from cmms.rows import UNCHANGED, given
from workorders.models import ServiceLine, WorkOrder
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


@transaction.atomic
def service_line_add(
    *, work_order: WorkOrder, vendor: str, description: str, amount, by
) -> ServiceLine:
    """Record an external service bought for the work order."""
    check_planning(by, work_order.site_id, refusal=REFUSAL)
    return _saved(
        ServiceLine(work_order=work_order, created_by=by),
        vendor=vendor,
        description=description,
        amount=_amount(amount),
    )


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
    return _saved(line, **given(vendor=vendor, description=description, amount=amount))


@transaction.atomic
def service_line_delete(*, line: ServiceLine, by) -> None:
    """Remove a line recorded by mistake."""
    check_planning(by, line.work_order.site_id, refusal=REFUSAL)
    line.delete()
