"""What a message on a plain JSON topic does: `cmms/v1/gateways/{gateway_id}/{channel}`.

The body is exactly the webhook's body of the same channel (gateways.channels): parsed by the
channel's `parse_body`, stored by its ingest service, so a redelivered alert or reading is
stored once (by `alert_id`, `reading_id`) and the alert pipeline runs as for the webhook. The
broker authenticated the sender and its role lets a gateway publish under its own id only, so
the topic names the gateway; no signature is checked. Anything that can never be accepted
raises `MessageRejected` with a reason for planners.
"""

import uuid
from datetime import datetime
from typing import Any

from django.db import connection

from alerts.channels import ALERTS
from cmms.bodies import BodyInvalid
from fleet.channels import HEARTBEAT
from gateways.channels import MAX_BODY_BYTES, Channel
from gateways.messages import MessageRejected
from gateways.models import Gateway, GatewaySecret
from gateways.services import gateway_touch
from pm.channels import READINGS

JSON_PREFIX = "cmms/v1/gateways/"
JSON_SUBSCRIPTION = "cmms/v1/gateways/+/+"
SPARKPLUG_PREFIX = "spBv1.0/"
SPARKPLUG_SUBSCRIPTION = "spBv1.0/#"
SPARKPLUG_STATE_PREFIX = "spBv1.0/STATE/"

CHANNELS: dict[str, Channel] = {channel.name: channel for channel in (ALERTS, READINGS, HEARTBEAT)}


def json_topic(gateway_id: str, channel: str) -> str:
    return f"{JSON_PREFIX}{gateway_id}/{channel}"


def json_message_handle(*, topic: str, payload: bytes, now: datetime) -> dict:
    """Store a plain JSON message in the caller's transaction; returns what the ingest service
    answered. Raises MessageRejected, or one of the channel's `retry_later` exceptions."""
    gateway, channel, items = json_message_parse(topic=topic, payload=payload)
    result = channel.ingest(gateway=gateway, items=items, now=now)
    gateway_touch(gateway=gateway, now=now)
    return result


def json_message_parse(
    *, topic: str, payload: bytes, gateways: dict[str, Gateway] | None = None
) -> tuple[Gateway, Channel, Any]:
    """The gateway, channel and parsed items of a plain JSON message, nothing stored yet (the
    consumer ingests a batch's items per gateway and channel); raises MessageRejected.

    `gateways`: the gateways admitted earlier in the same transaction, by topic id, filled in
    here; a batch of one gateway's messages then looks it up once."""
    gateway_id, _, name = topic.removeprefix(JSON_PREFIX).partition("/")
    gateway = gateways.get(gateway_id) if gateways is not None else None
    if gateway is None:
        gateway = _gateway(gateway_id)
        if gateways is not None:
            gateways[gateway_id] = gateway
    channel = CHANNELS.get(name)
    if channel is None:
        known = ", ".join(CHANNELS)
        raise MessageRejected(f"Unknown topic {name!r}: expected one of {known}.", gateway=gateway)
    if len(payload) > MAX_BODY_BYTES:
        raise MessageRejected(
            f"The body is {len(payload)} bytes; at most {MAX_BODY_BYTES} are accepted.",
            gateway=gateway,
        )
    try:
        items = channel.parse_body(payload)
    except BodyInvalid as exc:
        raise MessageRejected(body_errors_text(exc.errors), gateway=gateway) from None
    return gateway, channel, items


def _gateway(gateway_id: str) -> Gateway:
    """The active gateway with a live secret that the topic names (what the webhook admits)."""
    try:
        pk = uuid.UUID(gateway_id)
    except ValueError:
        raise MessageRejected(f"{gateway_id[:64]!r} is no gateway id.") from None
    # Every message starts here: one hand-written statement, like gateways.services'
    # gateway_for_webhook (building the equivalent ORM query costs more than running it).
    rows = list(
        Gateway.objects.raw(
            f"SELECT g.id, g.site_id, g.last_seen_at FROM {Gateway._meta.db_table} g "  # noqa: S608
            "WHERE g.id = %s AND g.is_active AND EXISTS (SELECT 1 FROM "
            f"{GatewaySecret._meta.db_table} s WHERE s.gateway_id = g.id AND s.retired_at IS NULL)",
            [Gateway._meta.pk.get_db_prep_value(pk, connection)],
        )
    )
    if rows:
        return rows[0]
    known = Gateway.objects.filter(pk=pk).only("id", "site_id").first()
    if known is None:
        raise MessageRejected(f"No gateway has the id {pk}.")
    raise MessageRejected("The gateway is disabled or has no live secret.", gateway=known)


def body_errors_text(errors: list[dict]) -> str:
    """The webhook's 400 errors (`{"index", "field", "message"}`) as lines for planners."""
    lines = [_error_line(error) for error in errors]
    return lines[0] if len(lines) == 1 else "\n".join(["The body breaks its schema:", *lines])


def _error_line(error: dict) -> str:
    place = []
    if error.get("index") is not None:
        place.append(f"item {error['index']}")
    if error.get("field"):
        place.append(f"{error['field']}:")
    return " ".join([*place, error["message"]])
