"""What integrators hear about the fleet: `gateway.offline` when a gateway is recorded offline
and `gateway.online` when one recorded offline is heard again, emitted into the outbox
(`integrations.services`) in the transaction that records the transition. Late is no event:
it is within the grace, and nothing was announced that would need taking back."""

from datetime import datetime

from gateways.choices import Connectivity
from integrations.choices import EventType
from integrations.services import EventItem, events_emit_many

ANNOUNCED = {
    Connectivity.OFFLINE: EventType.GATEWAY_OFFLINE,
    Connectivity.ONLINE: EventType.GATEWAY_ONLINE,
}


def gateway_transitions_announce(rows: list[dict], *, now: datetime) -> None:
    """Announce recorded transitions given as {gateway_id, site_id, from_state, to_state,
    last_seen_at}."""
    announced = [
        r
        for r in rows
        if r["to_state"] == Connectivity.OFFLINE
        or (r["to_state"] == Connectivity.ONLINE and r["from_state"] == Connectivity.OFFLINE)
    ]
    if announced:
        events_emit_many(items=[_item(r, now) for r in announced])


def _item(row: dict, now: datetime) -> EventItem:
    last_seen = row["last_seen_at"]
    data = {
        "id": str(row["gateway_id"]),
        "site_id": row["site_id"],
        "status": row["to_state"],
        "previous_status": row["from_state"],
        "at": now.isoformat(),
        "last_seen_at": last_seen.isoformat() if last_seen else None,
    }
    type = ANNOUNCED[row["to_state"]]
    return EventItem(type, row["site_id"], f"gateway:{row['gateway_id']}", data)
