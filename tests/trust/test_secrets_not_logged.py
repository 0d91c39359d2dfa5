"""Gateway secrets and webhook signatures never reach the logs, at any level."""

import json
import logging
import uuid
from datetime import UTC, datetime

import pytest
from django.test import Client
from standardwebhooks.webhooks import Webhook

from gateways import services
from tests.factories import AssetFactory, PlannerFactory, SiteFactory

pytestmark = pytest.mark.django_db


class Capture(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.lines.append(text)


@pytest.fixture
def captured():
    handler = Capture()
    root = logging.getLogger()
    saved = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(saved)


def signed_post(gateway_id, secret, body: str, *, tamper=False):
    msg_id = f"msg_{uuid.uuid4().hex}"
    now = datetime.now(tz=UTC)
    signature = Webhook(secret).sign(msg_id, now, body)
    if tamper:
        signature = signature[:-4] + "AAAA"
    response = Client().post(
        f"/hooks/v1/gateways/{gateway_id}/alerts",
        data=body,
        content_type="application/json",
        headers={
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signature,
        },
    )
    return response, signature


def test_secrets_and_signatures_never_appear_in_any_log_line(api, captured):
    site = SiteFactory()
    AssetFactory(site=site, tag="P-101")
    api.force_authenticate(PlannerFactory(sites=[site]))
    created = api.post("/api/v1/gateways/", {"site": site.pk, "name": "edge-1"}).json()
    gateway = services.gateway_for_webhook(created["id"])[0]
    rotated = services.gateway_rotate_secret(gateway=gateway)
    body = json.dumps(
        {
            "alert_id": "a-1",
            "asset": "P-101",
            "condition": "vibration.high",
            "severity": "major",
            "observed_at": datetime.now(tz=UTC).isoformat(),
        }
    )
    accepted, good_signature = signed_post(created["id"], rotated, body)
    refused, bad_signature = signed_post(created["id"], rotated, body, tamper=True)
    assert (accepted.status_code, refused.status_code) == (202, 401)

    logged = "\n".join(captured.lines)
    assert captured.lines, "nothing was logged: the test would prove nothing"
    for secret in (created["secret"], rotated):
        assert secret not in logged
        assert secret.removeprefix("whsec_") not in logged
    for signature in (good_signature, bad_signature):
        assert signature.split(",", 1)[1] not in logged
