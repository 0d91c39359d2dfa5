"""Signed requests to the gateway webhooks, as a gateway would send them."""

import json
import uuid
from datetime import UTC, datetime

from django.test import Client
from standardwebhooks.webhooks import Webhook


def signed_headers(secret: str, body: str, *, msg_id: str | None = None, when=None) -> dict:
    """Standard Webhooks headers for `body`, signed by the reference library."""
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    when = when or datetime.now(tz=UTC)
    signature = Webhook(secret).sign(msg_id, when, body)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": signature,
    }


def alert(alert_id="a-1", asset="P-101", **overrides) -> dict:
    """One alert of a webhook body: a major vibration on P-101, with any field overridden."""
    data = {
        "alert_id": alert_id,
        "asset": asset,
        "condition": "vibration.high",
        "severity": "major",
        "observed_at": "2025-05-01T12:00:00Z",
        "value": 11.2,
        "unit": "mm/s",
        "threshold": 7.1,
    }
    data.update(overrides)
    return data


class Hook:
    """Posts signed requests to one gateway's webhook."""

    def __init__(self, gateway, secret, client=None):
        self.gateway = gateway
        self.secret = secret
        self.client = client or Client()

    @property
    def url(self):
        return f"/hooks/v1/gateways/{self.gateway.pk}/alerts"

    def post(self, payload=None, *, body=None, secret=None, headers=None, **kwargs):
        body = body if body is not None else json.dumps(payload)
        signed = signed_headers(secret or self.secret, body)
        signed.update(headers or {})
        content_type = kwargs.pop("content_type", "application/json")
        return self.client.post(
            self.url, data=body, content_type=content_type, headers=signed, **kwargs
        )


class HeartbeatHook(Hook):
    """Posts signed requests to one gateway's heartbeat webhook."""

    @property
    def url(self):
        return f"/hooks/v1/gateways/{self.gateway.pk}/heartbeat"
