"""The Sparkplug B host application (placeholder on the consumer's branch).

The sparkplug helper owns this module; the lead takes their version. Only the contract's two
signatures are here: `state_message` (simple enough to be the real one, so the MQTT consumer
can set its will and publish its birth) and `handle_message`, not implemented yet.
"""

import json
from datetime import datetime

from django.conf import settings


def state_message(*, online: bool, timestamp_ms: int) -> tuple[str, bytes]:
    """The host's retained STATE message (Sparkplug 3.0): topic and JSON payload."""
    topic = f"spBv1.0/STATE/{settings.SPARKPLUG_HOST_ID}"
    return topic, json.dumps({"online": online, "timestamp": timestamp_ms}).encode()


def handle_message(*, topic: str, payload: bytes, now: datetime) -> None:
    """Store a Sparkplug message in the caller's transaction; raises MessageRejected."""
    raise NotImplementedError("Sparkplug B messages are handled on the sparkplug branch.")
