"""Admitting a signed request apart from HTTP (what a heartbeat or MQTT transport will call),
and the signed-ingestion view built around any parser and ingest service."""

import json
import time
import uuid

import pytest
from django.core.cache import cache
from django.test import RequestFactory

from cmms.bodies import BodyInvalid, body_error
from gateways import gateway_secrets, signing
from gateways.channels import Channel
from gateways.models import Gateway
from gateways.services import (
    GatewayRateExceeded,
    GatewayRefused,
    gateway_admit,
    gateway_authenticate,
)
from gateways.webhooks import signed_ingestion_view
from tests.factories import gateway_with_secret

pytestmark = pytest.mark.django_db

BODY = b'{"items": [1, 2, 3]}'


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def signed(secret: str, body: bytes = BODY) -> dict:
    msg_id, timestamp = f"msg_{uuid.uuid4().hex}", int(time.time())
    key = gateway_secrets.key_bytes(secret)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signing.sign(key=key, msg_id=msg_id, timestamp=timestamp, body=body),
    }


def test_a_signed_request_admits_its_gateway():
    gateway, secret = gateway_with_secret()

    admitted = gateway_admit(gateway_id=str(gateway.pk), headers=signed(secret), body=BODY)

    assert admitted.pk == gateway.pk
    assert admitted.site_id == gateway.site_id


@pytest.mark.parametrize("reason", ["unknown", "malformed id", "disabled", "other secret", "body"])
def test_every_reason_to_refuse_is_the_same_refusal(reason):
    gateway, secret = gateway_with_secret(is_active=reason != "disabled")
    gateway_id = {"unknown": str(uuid.uuid4()), "malformed id": "not-a-uuid"}.get(
        reason, str(gateway.pk)
    )
    if reason == "other secret":
        secret = gateway_secrets.generate()
    headers = signed(secret)
    body = b"{}" if reason == "body" else BODY

    with pytest.raises(GatewayRefused):
        gateway_authenticate(gateway_id=gateway_id, headers=headers, body=body)


def test_beyond_its_rate_a_gateway_is_told_when_to_retry():
    gateway, secret = gateway_with_secret(rate_limit_per_minute=2)

    for _ in range(2):
        gateway_admit(gateway_id=str(gateway.pk), headers=signed(secret), body=BODY)
    with pytest.raises(GatewayRateExceeded) as refused:
        gateway_admit(gateway_id=str(gateway.pk), headers=signed(secret), body=BODY)

    assert refused.value.limit == 2
    assert 1 <= refused.value.retry_after <= 60


class Busy(Exception):
    pass


def parse(body: bytes) -> list:
    items = json.loads(body).get("items")
    if not isinstance(items, list):
        raise BodyInvalid([body_error(None, "items", "A list is required.")])
    return items


def post(view, gateway: Gateway, secret: str, body: bytes = BODY):
    request = RequestFactory().post(
        "/hooks/v1/gateways/x/things",
        data=body,
        content_type="application/json",
        headers=signed(secret, body),
    )
    return view(request, gateway_id=str(gateway.pk))


def test_the_view_hands_parsed_items_and_the_gateway_to_the_ingest_service():
    gateway, secret = gateway_with_secret()
    calls = []

    def ingest(*, gateway, items, now):
        calls.append((gateway.pk, items))
        return {"accepted": len(items)}

    view = signed_ingestion_view(Channel(parse_body=parse, ingest=ingest, name="things"))
    response = post(view, gateway, secret)

    assert response.status_code == 202
    assert json.loads(response.content) == {"accepted": 3}
    assert calls == [(gateway.pk, [1, 2, 3])]
    assert Gateway.objects.get(pk=gateway.pk).last_seen_at is not None


def test_a_body_against_the_schema_never_reaches_the_ingest_service():
    gateway, secret = gateway_with_secret()

    def ingest(**kwargs):
        raise AssertionError("not called")

    view = signed_ingestion_view(Channel(parse_body=parse, ingest=ingest, name="things"))
    response = post(view, gateway, secret, b'{"items": 1}')

    assert response.status_code == 400
    assert json.loads(response.content) == {
        "errors": [{"index": None, "field": "items", "message": "A list is required."}]
    }


def test_what_the_ingest_service_asks_to_retry_answers_503():
    gateway, secret = gateway_with_secret()

    def ingest(**kwargs):
        raise Busy

    view = signed_ingestion_view(
        Channel(parse_body=parse, ingest=ingest, retry_later=(Busy,), name="x")
    )
    response = post(view, gateway, secret)

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert Gateway.objects.get(pk=gateway.pk).last_seen_at is None
