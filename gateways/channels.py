"""A channel: one kind of data a gateway sends (alerts, readings, heartbeat), declared once.

Every transport carries the same channels with the same bodies: the signed webhook
(`POST /hooks/v1/gateways/{id}/{name}`, `gateways.webhooks.signed_ingestion_view`) and the
plain JSON MQTT topic (`cmms/v1/gateways/{id}/{name}`, the mqtt app's consumer). Each app that
owns a channel declares it in its `channels.py`; the transports only look it up, so a body
schema or an ingest service is never wired twice.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

# parse_body(body) -> items, raising a cmms.bodies.BodyInvalid; ingest(gateway=, items=, now=)
# -> the JSON object answered (202 on the webhook).
BodyParser = Callable[[bytes], Sequence[Any] | Any]
IngestService = Callable[..., dict]

# The webhook's limit on a body, and the MQTT consumer's on a message: the same bodies.
MAX_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Channel:
    """`parse_body` turns a raw body into items, `ingest(gateway=, items=, now=)` stores them in
    one transaction; any of `retry_later` raised by `ingest` means "nothing stored, try again"
    (503 on the webhook, no acknowledgement on MQTT). `name` is the last level of the URL and
    of the topic, and the word in the logs."""

    name: str
    parse_body: BodyParser
    ingest: IngestService
    retry_later: tuple[type[Exception], ...] = ()
