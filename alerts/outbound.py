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
    # None for an alert the system raised itself (an anomaly).
    data["gateway_id"] = str(alert.gateway_id) if alert.gateway_id else None
    return {**data, **extra}


def alerts_settled_announce(settled: list[tuple[Alert, str]], *, work_order_id=None) -> None:
    """alert.received, then alert.processed with the outcome (processed, recorded, unmatched)
    and the work order, for (alert, status) settled in the current transaction (one SELECT
    per site)."""
    events_emit_many(
        items=[
            item
            for alert, status in settled
            for item in (
                _item(EventType.ALERT_RECEIVED, alert, status="received"),
                _item(EventType.ALERT_PROCESSED, alert, status=status, work_order_id=work_order_id),
            )
        ]
    )


def _item(type: str, alert: Alert, **extra) -> EventItem:
    return EventItem(type, alert.site_id, f"alert:{alert.pk}", alert_data(alert, **extra))
