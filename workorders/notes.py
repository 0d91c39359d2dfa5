"""Notes on a work order's timeline, written by the technician pages and the planner's merge.

A note is a `WorkOrderEvent` of kind NOTE; who may add one is the policy's
`check_open_field_work`: who may record field work, and never on a closed or cancelled work
order. Photos (`tech`) add their note the same way.
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from workorders.choices import EventKind
from workorders.models import WorkOrder, WorkOrderEvent
from workorders.policy import check_open_field_work


@transaction.atomic
def work_order_note_add(*, work_order: WorkOrder, by, message: str) -> WorkOrderEvent:
    """Add a note to the work order's timeline."""
    message = message.strip()
    if not message:
        raise ValidationError({"message": "Write something first."})
    check_open_field_work(work_order, by)
    return WorkOrderEvent.objects.create(
        work_order=work_order, kind=EventKind.NOTE, message=message, created_by=by
    )
