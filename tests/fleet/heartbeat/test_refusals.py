"""The heartbeat webhook is signed and refused exactly like the alerts webhook: every refusal
is sent to both, and both answer the same status, body and headers, with nothing stored."""

import json
import uuid
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import OperationalError
from django.test import Client

from alerts.models import Alert
from gateways import services
from gateways.models import BatterySample, Gateway, Sensor
from tests.factories import gateway_with_secret
from tests.webhooks import alert, signed_headers

pytestmark = pytest.mark.django_db

ENDPOINTS = ("alerts", "heartbeat")
VALID = {
    "alerts": json.dumps(alert()),
    "heartbeat": json.dumps(
        {"firmware": "2.4.1", "battery_percent": 80, "sensors": [{"id": "s1"}]}
    ),
}


def post(gateway_id, endpoint, body, headers, *, content_type="application/json", **extra):
    return Client().generic(
        "POST",
        f"/hooks/v1/gateways/{gateway_id}/{endpoint}",
        data=body,
        content_type=content_type,
        headers=headers,
        **extra,
    )


def unsigned(gateway, secret, endpoint, body):
    return post(gateway.pk, endpoint, body, {})


def wrong_secret(gateway, secret, endpoint, body):
    _, other = gateway_with_secret()
    return post(gateway.pk, endpoint, body, signed_headers(other, body))


def retired_secret(gateway, secret, endpoint, body):
    services.gateway_rotate_secret(gateway=gateway)
    services.gateway_retire_secrets(gateway=gateway)
    return post(gateway.pk, endpoint, body, signed_headers(secret, body))


def tampered_body(gateway, secret, endpoint, body):
    headers = signed_headers(secret, body)
    return post(gateway.pk, endpoint, body + " ", headers)


def disabled_gateway(gateway, secret, endpoint, body):
    services.gateway_set_active(gateway=gateway, is_active=False)
    return post(gateway.pk, endpoint, body, signed_headers(secret, body))


def unknown_id(gateway, secret, endpoint, body):
    return post(uuid.uuid4(), endpoint, body, signed_headers(secret, body))


def malformed_id(gateway, secret, endpoint, body):
    return post("not-a-uuid", endpoint, body, signed_headers(secret, body))


def expired_timestamp(gateway, secret, endpoint, body):
    when = datetime.now(tz=UTC) - timedelta(seconds=301)
    return post(gateway.pk, endpoint, body, signed_headers(secret, body, when=when))


def future_timestamp(gateway, secret, endpoint, body):
    when = datetime.now(tz=UTC) + timedelta(seconds=301)
    return post(gateway.pk, endpoint, body, signed_headers(secret, body, when=when))


def wrong_method(gateway, secret, endpoint, body):
    return Client().get(f"/hooks/v1/gateways/{gateway.pk}/{endpoint}")


def wrong_content_type(gateway, secret, endpoint, body):
    headers = signed_headers(secret, body)
    return post(gateway.pk, endpoint, body, headers, content_type="text/plain")


def latin1_charset(gateway, secret, endpoint, body):
    headers = signed_headers(secret, body)
    return post(
        gateway.pk, endpoint, body, headers, content_type="application/json; charset=latin-1"
    )


def too_large(gateway, secret, endpoint, body):
    big = json.dumps({"firmware": "x" * (1024 * 1024)})
    return post(gateway.pk, endpoint, big, signed_headers(secret, big))


def declared_too_large(gateway, secret, endpoint, body):
    stream = mock.MagicMock()
    response = post(
        gateway.pk,
        endpoint,
        b"{}",
        {},
        CONTENT_LENGTH=str(50 * 1024 * 1024),
        **{"wsgi.input": stream},
    )
    stream.read.assert_not_called()
    return response


def bad_content_length(gateway, secret, endpoint, body):
    return post(gateway.pk, endpoint, body, signed_headers(secret, body), CONTENT_LENGTH="x")


def malformed_json(gateway, secret, endpoint, body):
    broken = "{not json"
    return post(gateway.pk, endpoint, broken, signed_headers(secret, broken))


def rate_limited(gateway, secret, endpoint, body):
    Gateway.objects.filter(pk=gateway.pk).update(rate_limit_per_minute=1)
    first = post(gateway.pk, endpoint, VALID[endpoint], signed_headers(secret, VALID[endpoint]))
    assert first.status_code == 202, first.content
    Sensor.objects.all().delete()
    Alert.objects.all().delete()
    BatterySample.objects.all().delete()
    Gateway.objects.filter(pk=gateway.pk).update(
        last_seen_at=None, last_heartbeat_at=None, firmware="", battery_percent=None
    )
    return post(gateway.pk, endpoint, body, signed_headers(secret, body))


def database_down_while_authenticating(gateway, secret, endpoint, body):
    with mock.patch("gateways.services.gateway_for_webhook", side_effect=OperationalError("down")):
        return post(gateway.pk, endpoint, body, signed_headers(secret, body))


REFUSALS = [
    unsigned,
    wrong_secret,
    retired_secret,
    tampered_body,
    disabled_gateway,
    unknown_id,
    malformed_id,
    expired_timestamp,
    future_timestamp,
    wrong_method,
    wrong_content_type,
    latin1_charset,
    too_large,
    declared_too_large,
    bad_content_length,
    malformed_json,
    rate_limited,
    database_down_while_authenticating,
]


def answer(response) -> dict:
    headers = {name: response.get(name) for name in ("Allow", "Content-Type")}
    # Seconds until the rate window ends may tick between the two requests: compare presence.
    headers["Retry-After"] = response.get("Retry-After") is not None
    return {"status": response.status_code, "body": response.json(), "headers": headers}


def nothing_stored():
    assert Alert.objects.count() == 0
    assert Sensor.objects.count() == 0
    assert BatterySample.objects.count() == 0
    assert not Gateway.objects.exclude(last_heartbeat_at=None).exists()
    assert not Gateway.objects.exclude(firmware="").exists()
    assert not Gateway.objects.exclude(last_seen_at=None).exists()


@pytest.mark.parametrize("refusal", REFUSALS, ids=lambda refusal: refusal.__name__)
def test_the_heartbeat_is_refused_exactly_like_an_alert(site, refusal):
    answers = {}
    for endpoint in ENDPOINTS:
        cache.clear()
        gateway, secret = gateway_with_secret(site=site)
        answers[endpoint] = answer(refusal(gateway, secret, endpoint, VALID["heartbeat"]))
        nothing_stored()

    assert answers["heartbeat"] == answers["alerts"]
    assert answers["heartbeat"]["status"] in {400, 401, 405, 413, 415, 429, 503}
    assert answers["heartbeat"]["body"]["errors"]


def test_every_reason_to_refuse_a_signature_gets_one_answer(site):
    bodies = set()
    for refusal in REFUSALS[:9]:
        cache.clear()
        gateway, secret = gateway_with_secret(site=site)
        response = refusal(gateway, secret, "heartbeat", VALID["heartbeat"])
        assert response.status_code == 401, refusal.__name__
        bodies.add(response.content)

    assert len(bodies) == 1


def test_an_unavailable_database_while_storing_answers_503_like_alerts(heartbeat_hook):
    with mock.patch("fleet.heartbeat._sensors_update", side_effect=OperationalError("lost")):
        response = heartbeat_hook.post(json.loads(VALID["heartbeat"]))

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {
        "errors": [
            {
                "index": None,
                "field": None,
                "message": "The service is temporarily unavailable; retry later.",
            }
        ]
    }
    # The gateway's update was rolled back with the rest of the transaction.
    nothing_stored()


def test_a_rotated_secret_verifies_until_it_is_retired(heartbeat_hook):
    old = heartbeat_hook.secret
    new = services.gateway_rotate_secret(gateway=heartbeat_hook.gateway)

    assert heartbeat_hook.post({}, secret=old).status_code == 202
    assert heartbeat_hook.post({}, secret=new).status_code == 202
    services.gateway_retire_secrets(gateway=heartbeat_hook.gateway)
    assert heartbeat_hook.post({}, secret=old).status_code == 401
    assert heartbeat_hook.post({}, secret=new).status_code == 202
