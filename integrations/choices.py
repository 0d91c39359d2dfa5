"""Outbound event types and delivery statuses; the values are a contract with integrators."""

from django.db import models


class EventType(models.TextChoices):
    """What an endpoint may subscribe to (pinned, dotted: `<object>.<what happened>`)."""

    WORK_ORDER_CREATED = "work_order.created"
    WORK_ORDER_STATUS_CHANGED = "work_order.status_changed"
    WORK_ORDER_ASSIGNED = "work_order.assigned"
    WORK_ORDER_COMPLETED = "work_order.completed"
    ALERT_RECEIVED = "alert.received"
    ALERT_PROCESSED = "alert.processed"
    GATEWAY_OFFLINE = "gateway.offline"
    GATEWAY_ONLINE = "gateway.online"
    PM_GENERATED = "pm.generated"
    # Sent only by "Send test event" (admin) to check an endpoint; no one subscribes to it.
    TEST = "test"


SUBSCRIBABLE = [t for t in EventType if t != EventType.TEST]


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
