"""What integrators hear about work orders: the outbound events' payloads, emitted into the
outbox (`integrations.services`) inside the change's transaction."""

from integrations.choices import EventType
from integrations.selectors import endpoints_want
from integrations.services import EventItem, events_emit_many
from workorders.choices import Status
from workorders.models import WorkOrder

FIELDS = ["id", "number", "site_id", "asset_id", "status", "priority", "type", "title"]
MORE = ["assignee_id", "due_at", "source"]


def work_order_data(work_order: WorkOrder, **extra) -> dict:
    """The work order as an event carries it: ids, number, status and what planning needs."""
    data = {name: getattr(work_order, name) for name in FIELDS + MORE}
    data["due_at"] = data["due_at"].isoformat() if data["due_at"] else None
    return {**data, **extra}


def _item(type: str, work_order: WorkOrder, **extra) -> EventItem:
    subject = f"work_order:{work_order.pk}"
    return EventItem(type, work_order.site_id, subject, work_order_data(work_order, **extra))


def _emit(type: str, work_order: WorkOrder, **extra) -> None:
    events_emit_many(items=[_item(type, work_order, **extra)])


def work_order_created_announce(work_order: WorkOrder) -> None:
    _emit(EventType.WORK_ORDER_CREATED, work_order)


def work_order_assigned_announce(work_order: WorkOrder) -> None:
    _emit(EventType.WORK_ORDER_ASSIGNED, work_order)


def work_order_transition_announce(work_order: WorkOrder, *, previous: str) -> None:
    """status_changed for every transition, and completed too when it reached completed."""
    items = [_item(EventType.WORK_ORDER_STATUS_CHANGED, work_order, previous_status=previous)]
    if work_order.status == Status.COMPLETED:
        items.append(_item(EventType.WORK_ORDER_COMPLETED, work_order))
    events_emit_many(items=items)


def work_orders_announce(
    ids: list[int], *, type: str, site_ids: set[int], extra: dict[int, dict] | None = None
) -> None:
    """`type` for each of many work orders created at once (bulk creation, PM generation),
    `extra[id]` added to its data: read back (numbers come from the database) only when an
    endpoint of one of `site_ids` wants `type`."""
    if not ids or not endpoints_want(type=type, site_ids=site_ids):
        return
    extra = extra or {}
    work_orders = WorkOrder.objects.filter(pk__in=ids).order_by("pk").only(*FIELDS, *MORE)
    events_emit_many(items=[_item(type, wo, **extra.get(wo.pk, {})) for wo in work_orders])
