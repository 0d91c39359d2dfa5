"""Whatever a gateway sends to the readings webhook, it answers a 2xx or 4xx, never a 500."""

import contextlib
import json

import pytest
from django.core.cache import cache
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from assets.models import MeterReading
from tests.factories import AssetFactory, MeterFactory, gateway_with_secret
from tests.fuzzing import ALLOWED, ODD_VALUES, fuzz_settings, json_values, mutated
from tests.webhooks import signed_headers

pytestmark = pytest.mark.django_db

FUZZ = fuzz_settings(150)
any_json = json_values(max_int=10**40, max_size=4, max_leaves=15)
field_values = st.one_of(
    any_json,
    st.sampled_from(
        [
            "2025-05-01T12:00:00Z",
            "9999-12-31T23:59:59-23:59",
            "0001-01-01T00:00:00+23:59",
            "P-101",
            "hours",
            1e27,
            -1e30,
            10**40,
            9999999999999.9999,
            *ODD_VALUES,
        ]
    ),
)


def _reading():
    return {
        "reading_id": "r-1",
        "asset": "P-101",
        "meter": "hours",
        "value": 12.5,
        "observed_at": "2025-05-01T12:00:00Z",
    }


mutated_reading = mutated(
    st.builds(_reading),
    fields=["reading_id", "asset", "meter", "value", "observed_at", "other"],
    values=field_values,
    droppable=["reading_id", "asset", "meter", "value", "observed_at"],
    max_changes=3,
)
payloads = st.one_of(
    st.builds(lambda items: {"readings": items}, st.lists(mutated_reading, max_size=4)),
    mutated_reading,
    any_json,
)
# Number literals json.dumps never writes: what a hand-rolled gateway encoder might.
number_literals = st.sampled_from(
    ["1e27", "1e308", "1e999999", "-1e999999", "NaN", "Infinity", "-Infinity", "9" * 5000, "-0"]
)
literal_bodies = number_literals.map(
    lambda literal: json.dumps({"readings": [_reading()]}).replace("12.5", literal)
)
DEEP_READINGS = '{"readings": ' + "[" * 900 + "]" * 900 + "}"
text_bodies = st.one_of(
    payloads.map(json.dumps),
    payloads.map(lambda p: json.dumps(p, ensure_ascii=False)),
    literal_bodies,
    st.text(max_size=200),
    st.sampled_from(["", "{", "[" * 5000, '{"readings": [', DEEP_READINGS]),
)
content_types = st.sampled_from(
    ["application/json", "application/json; charset=utf-8", "text/plain", ""]
)


@pytest.fixture
def target(db):
    cache.clear()
    gateway, secret = gateway_with_secret()
    MeterFactory(asset=AssetFactory(site=gateway.site, tag="P-101"), code="hours")
    return gateway, secret


def _post(gateway, secret, body: bytes, *, content_type="application/json", sign=True):
    headers = {}
    if sign:
        with contextlib.suppress(UnicodeDecodeError):
            headers = signed_headers(secret, body.decode("utf-8"))
    return Client().generic(
        "POST",
        f"/hooks/v1/gateways/{gateway.pk}/readings",
        data=body,
        content_type=content_type,
        headers=headers,
    )


@FUZZ
@given(
    body=st.one_of(text_bodies.map(lambda t: t.encode("utf-8", "surrogatepass")), st.binary()),
    content_type=content_types,
    sign=st.booleans(),
)
def test_the_readings_webhook_never_answers_500(target, body, content_type, sign):
    gateway, secret = target
    cache.clear()  # the gateway's rate limit would otherwise answer 429 to most examples

    response = _post(gateway, secret, body, content_type=content_type, sign=sign)

    assert response.status_code in ALLOWED, (response.status_code, response.content[:300])
    assert response["Content-Type"] == "application/json"
    json.loads(response.content)


@FUZZ
@given(payload=payloads)
def test_signed_reading_shaped_bodies_are_either_stored_or_refused_whole(target, payload):
    gateway, secret = target
    cache.clear()
    before = MeterReading.objects.count()

    response = _post(gateway, secret, json.dumps(payload).encode())

    assert response.status_code in {202, 400}, response.content[:300]
    if response.status_code == 400:
        assert MeterReading.objects.count() == before
        assert all({"index", "field", "message"} <= set(e) for e in response.json()["errors"])
    else:
        answer = response.json()
        assert len(answer["results"]) == len(payload["readings"])
