"""Whatever a client sends to the heartbeat webhook, it answers a 2xx or 4xx, never a 500."""

import json

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from gateways.models import Gateway, Sensor
from tests.factories import gateway_with_secret
from tests.fuzzing import ALLOWED, ODD_VALUES, fuzz_settings, json_values, mutated
from tests.webhooks import signed_headers

any_json = json_values(max_int=10**30, max_size=5, max_leaves=20)
field_values = st.one_of(
    any_json,
    st.integers(min_value=-300, max_value=300),
    st.sampled_from(
        [
            "2026-11-30T07:59:12Z",
            "9999-12-31T23:59:59-23:59",
            "0001-01-01T00:00:00+23:59",
            "2026-11-30 07:59:12.123456789+00:00",
            "2.4.1",
            "vib-01",
            10**10 - 1,
            10**10,
            -200,
            50,
            100,
            *ODD_VALUES,
        ]
    ),
)
SENSOR = {
    "id": "vib-01",
    "last_sample_at": "2026-11-30T07:59:12Z",
    "battery_percent": 61,
    "signal_dbm": -80,
}
HEARTBEAT = {"firmware": "2.4.1", "uptime_seconds": 86400, "signal_dbm": -71, "battery_percent": 88}

mutated_sensor = mutated(
    st.builds(lambda n: {**SENSOR, "id": f"s-{n}"}, st.integers(0, 6)),
    fields=["id", "last_sample_at", "battery_percent", "signal_dbm", "other"],
    values=field_values,
    droppable=["id", "last_sample_at", "battery_percent", "signal_dbm"],
    max_changes=3,
)
mutated_heartbeat = st.builds(
    lambda heartbeat, sensors: {**heartbeat, **({"sensors": sensors} if sensors else {})},
    mutated(
        st.just(HEARTBEAT),
        fields=["firmware", "uptime_seconds", "signal_dbm", "battery_percent", "sensors", "other"],
        values=field_values,
        droppable=["firmware", "uptime_seconds", "signal_dbm", "battery_percent"],
        max_changes=3,
    ),
    st.one_of(st.none(), st.lists(st.one_of(mutated_sensor, field_values), max_size=6)),
)
payloads = st.one_of(mutated_heartbeat, any_json)
text_bodies = st.one_of(
    payloads.map(json.dumps),
    payloads.map(lambda p: json.dumps(p, ensure_ascii=False)),
    st.text(max_size=200),
    st.sampled_from(["", "{", "[" * 5000, '{"sensors": [', "NaN", "1e999", '{"a":1}' * 3]),
)
content_types = st.one_of(
    st.sampled_from(
        [
            "application/json",
            "application/json; charset=utf-8",
            "application/json; charset=utf-16",
            "text/plain",
            "",
        ]
    ),
    st.text(max_size=30),
)
header_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=60)


@pytest.fixture
def target(db):
    return gateway_with_secret()


@fuzz_settings(200)
@given(
    body=st.one_of(text_bodies.map(lambda t: t.encode("utf-8", "surrogatepass")), st.binary()),
    content_type=content_types,
    sign=st.booleans(),
    garbage_headers=st.dictionaries(
        st.sampled_from(["webhook-id", "webhook-timestamp", "webhook-signature"]),
        header_text,
        max_size=3,
    ),
    path_id=st.one_of(st.none(), st.text(alphabet="0123456789abcdef-", max_size=40)),
)
def test_the_heartbeat_webhook_never_answers_500(
    target, body, content_type, sign, garbage_headers, path_id
):
    gateway, secret = target
    headers = dict(garbage_headers)
    if sign:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None:
            headers = signed_headers(secret, text)
    url = f"/hooks/v1/gateways/{path_id if path_id else gateway.pk}/heartbeat"

    response = Client().generic("POST", url, data=body, content_type=content_type, headers=headers)

    assert response.status_code in ALLOWED, (response.status_code, response.content[:300])
    assert response["Content-Type"] == "application/json"
    json.loads(response.content)


@pytest.mark.django_db
@fuzz_settings(150)
@given(payload=payloads)
def test_signed_heartbeat_shaped_bodies_are_either_stored_or_refused_whole(target, payload):
    gateway, secret = target
    body = json.dumps(payload)
    before = (
        Gateway.objects.filter(pk=gateway.pk).values_list("last_heartbeat_at", flat=True).get(),
        Sensor.objects.count(),
    )

    response = Client().post(
        f"/hooks/v1/gateways/{gateway.pk}/heartbeat",
        data=body,
        content_type="application/json",
        headers=signed_headers(secret, body),
    )

    assert response.status_code in {202, 400}, response.content[:300]
    if response.status_code == 400:
        after = (
            Gateway.objects.filter(pk=gateway.pk).values_list("last_heartbeat_at", flat=True).get(),
            Sensor.objects.count(),
        )
        assert after == before
        assert all({"index", "field", "message"} <= set(e) for e in response.json()["errors"])
    else:
        answer = response.json()
        assert answer["gateway"] == str(gateway.pk)
        counts = answer["sensors"]
        assert counts["updated"] + counts["registered"] + counts["ignored"] == len(
            payload.get("sensors") or []
        )
