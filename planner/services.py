"""Planner writes that combine work order services: merging a duplicate, dispatching work.

They add no rule of their own: the lifecycle, site and assignee checks are those of
`workorders.services`, called inside one transaction so a refusal leaves nothing half done.
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from alerts.models import Alert
from workorders import services as wo_services
from workorders.choices import Status
from workorders.models import WorkOrder
from workorders.notes import work_order_note_add

DISPATCHABLE = (Status.APPROVED, Status.SCHEDULED, Status.ON_HOLD, Status.IN_PROGRESS)


@transaction.atomic
def work_order_merge(*, duplicate: WorkOrder, into: WorkOrder, by) -> WorkOrder:
    """Cancel a duplicate request in favour of an open work order of the same site.

    The duplicate is cancelled with the reason "duplicate of WO-…" (its history says so), its
    alerts move to the kept work order, and the kept one gets a note naming the duplicate.
    """
    if duplicate.pk == into.pk:
        raise ValidationError({"into": "A work order cannot be merged into itself."})
    if duplicate.site_id != into.site_id:
        raise ValidationError({"into": f"{into.number} is at another site."})
    if not into.is_open:
        raise ValidationError({"into": f"{into.number} is {into.status}; pick open work."})
    wo_services.work_order_transition(
        work_order=duplicate,
        to=Status.CANCELLED,
        by=by,
        reason=f"duplicate of {into.number}",
    )
    moved = Alert.objects.filter(work_order=duplicate).update(work_order=into)
    note = f"{duplicate.number} ({duplicate.title}) merged into this work order as a duplicate"
    work_order_note_add(
        work_order=into, by=by, message=f"{note}; {moved} alert(s) moved." if moved else note
    )
    return into


@transaction.atomic
def work_order_dispatch(
    *, work_order: WorkOrder, assignee, scheduled_start: datetime, by
) -> WorkOrder:
    """Give open work to a technician on a day: assign, set the start, and schedule approved work.

    Approved work moves to scheduled (through the lifecycle); work already scheduled, running
    or on hold keeps its status and only moves in the plan.
    """
    if work_order.status not in DISPATCHABLE:
        raise ValidationError(
            {
                "work_order": f"{work_order.number} is {work_order.get_status_display().lower()}; "
                "approve it before dispatching it."
            }
        )
    fields = {"scheduled_start": scheduled_start}
    if assignee != work_order.assignee:
        fields["assignee"] = assignee
    wo_services.work_order_update(work_order=work_order, by=by, **fields)
    if work_order.status == Status.APPROVED:
        wo_services.work_order_transition(work_order=work_order, to=Status.SCHEDULED, by=by)
    return work_order
