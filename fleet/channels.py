"""The heartbeat channel: a gateway's sign of life with health figures, on every transport
(gateways.channels)."""

from datetime import datetime

from fleet.heartbeat import HeartbeatRaced, heartbeat_ingest
from fleet.schema import Heartbeat, parse_body
from gateways.channels import Channel
from gateways.models import Gateway


def _ingest(*, gateway: Gateway, items: Heartbeat, now: datetime) -> dict:
    # The channel's `items` is the whole body here: one heartbeat.
    return heartbeat_ingest(gateway=gateway, heartbeat=items, now=now)


HEARTBEAT = Channel(
    name="heartbeat", parse_body=parse_body, ingest=_ingest, retry_later=(HeartbeatRaced,)
)
