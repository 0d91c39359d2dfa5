"""Whatever a client sends, the webhook answers with a 2xx or 4xx, never a 500."""

import json

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from alerts.models import Alert
from tests.factories import AssetFactory, gateway_with_secret
from tests.fuzzing import ALLOWED, ODD_VALUES, fuzz_settings, json_values, mutated
from tests.webhooks import alert, signed_headers

any_json = json_values(max_int=10**30, max_size=5, max_leaves=20)
field_values = st.one_of(
    any_json,
    st.sampled_from(
        [
            "2025-05-01T12:00:00Z",
            "9999-12-31T23:59:59-23:59",
            "0001-01-01T00:00:00+23:59",
            "2025-05-01 12:00:00.123456789+00:00",
            "vibration.high",
            "critical",
            "cleared",
            "P-101",
            *ODD_VALUES,
        ]
    ),
)
mutated_alert = mutated(
    st.just(alert()),
    fields=[
        "alert_id",
        "asset",
        "condition",
        "severity",
        "state",
        "observed_at",
        "value",
        "unit",
        "threshold",
        "message",
        "attributes",
        "other",
    ],
    values=field_values,
    droppable=["alert_id", "asset", "severity", "observed_at"],
    max_changes=4,
)
payloads = st.one_of(
    mutated_alert,
    st.builds(lambda items: {"alerts": items}, st.lists(mutated_alert, max_size=5)),
    any_json,
)
text_bodies = st.one_of(
    payloads.map(json.dumps),
    payloads.map(lambda p: json.dumps(p, ensure_ascii=False)),
    st.text(max_size=200),
    st.sampled_from(["", "{", "[" * 5000, '{"alerts": [', "NaN", "1e999", '{"a":1}' * 3]),
)
content_types = st.one_of(
    st.sampled_from(
        [
            "application/json",
            "application/json; charset=utf-8",
            "application/json; charset=utf-16",
            "text/plain",
            "multipart/form-data; boundary=x",
            "application/x-www-form-urlencoded",
            "",
        ]
    ),
    st.text(max_size=30),
)
header_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=60)


@pytest.fixture
def target(db):
    gateway, secret = gateway_with_secret()
    AssetFactory(site=gateway.site, tag="P-101")
    return gateway, secret


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
def test_the_webhook_never_answers_500(target, body, content_type, sign, garbage_headers, path_id):
    gateway, secret = target
    headers = dict(garbage_headers)
    if sign:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None:
            headers = signed_headers(secret, text)
    url = f"/hooks/v1/gateways/{path_id if path_id else gateway.pk}/alerts"

    response = Client().generic("POST", url, data=body, content_type=content_type, headers=headers)

    assert response.status_code in ALLOWED, (response.status_code, response.content[:300])
    assert response["Content-Type"] == "application/json"
    json.loads(response.content)


@pytest.mark.django_db
@fuzz_settings(100)
@given(payload=payloads)
def test_signed_alert_shaped_bodies_are_either_stored_or_refused_whole(target, payload):
    gateway, secret = target
    body = json.dumps(payload)
    before = Alert.objects.count()

    response = Client().post(
        f"/hooks/v1/gateways/{gateway.pk}/alerts",
        data=body,
        content_type="application/json",
        headers=signed_headers(secret, body),
    )

    assert response.status_code in {202, 400}, response.content[:300]
    if response.status_code == 400:
        assert Alert.objects.count() == before
        assert all({"index", "field", "message"} <= set(e) for e in response.json()["errors"])
    else:
        answer = response.json()
        counted = (
            answer["accepted"] + answer["duplicates"] + answer["conflicts"] + answer["unmatched"]
        )
        assert counted == len(answer["results"])
