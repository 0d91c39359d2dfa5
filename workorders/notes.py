"""Notes on a work order's timeline, written by the technician pages and the planner's merge.

A note is a `WorkOrderEvent` of kind NOTE; who may add one is who may record field work, and
nobody adds to a closed or cancelled work order. Photos (`tech`) add their note the same way.
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from cmms.errors import TransitionNotAllowed
from workorders.choices import FINAL_STATUSES, EventKind
from workorders.models import WorkOrder, WorkOrderEvent
from workorders.services import check_field_work


def check_may_add_to_timeline(work_order: WorkOrder, by) -> None:
    """Raise unless `by` may record field work here and the work order is still open."""
    check_field_work(work_order, by)
    if work_order.status in FINAL_STATUSES:
        raise TransitionNotAllowed(f"{work_order.number} is {work_order.status}.")


@transaction.atomic
def work_order_note_add(*, work_order: WorkOrder, by, message: str) -> WorkOrderEvent:
    """Add a note to the work order's timeline."""
    message = message.strip()
    if not message:
        raise ValidationError({"message": "Write something first."})
    check_may_add_to_timeline(work_order, by)
    return WorkOrderEvent.objects.create(
        work_order=work_order, kind=EventKind.NOTE, message=message, created_by=by
    )
