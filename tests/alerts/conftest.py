import json
import uuid
from datetime import UTC, datetime

import pytest
from django.core.cache import cache
from django.test import Client
from standardwebhooks.webhooks import Webhook

from tests.factories import AssetFactory, SiteFactory, gateway_with_secret


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


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def site():
    return SiteFactory()


@pytest.fixture
def pump(site):
    return AssetFactory(site=site, tag="P-101")


@pytest.fixture
def hook(site, pump):
    gateway, secret = gateway_with_secret(site=site)
    return Hook(gateway, secret)
