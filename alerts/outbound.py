"""What integrators hear about alerts: `alert.received` and `alert.processed`, emitted into the
outbox (`integrations.services`) by the worker in the transaction that settles the alerts.

Not in the webhook request: the ingest hot path stays one INSERT, and a worker settles every
alert exactly once (its row lock and status), so each alert is announced once, received then
processed, when it is settled.
"""

from alerts.models import Alert
from integrations.choices import EventType
from integrations.services import EventItem, events_emit_many

# Fields the announcement reads; queries that load alerts partially include them.
FIELDS = ("id", "alert_id", "gateway_id", "site_id", "asset_id", "asset_tag", "condition")
MORE = ("severity", "state", "observed_at")


def alert_data(alert: Alert, **extra) -> dict:
    data = {name: getattr(alert, name) for name in FIELDS + MORE}
    data["observed_at"] = alert.observed_at.isoformat()
    data["gateway_id"] = str(alert.gateway_id)
    return {**data, **extra}


def alerts_settled_announce(alerts: list[Alert], *, status: str, work_order_id=None) -> None:
    """alert.received, then alert.processed with the outcome (processed, recorded, unmatched)
    and the work order, for alerts settled in the current transaction."""
    if not alerts:
        return
    events_emit_many(
        type=EventType.ALERT_RECEIVED,
        items=[_item(alert, status="received") for alert in alerts],
    )
    events_emit_many(
        type=EventType.ALERT_PROCESSED,
        items=[_item(alert, status=status, work_order_id=work_order_id) for alert in alerts],
    )


def _item(alert: Alert, **extra) -> EventItem:
    return EventItem(alert.site_id, f"alert:{alert.pk}", alert_data(alert, **extra))
