import json
import uuid
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client
from standardwebhooks.webhooks import Webhook

from alerts.choices import AlertState, AlertStatus
from alerts.models import Alert
from gateways import services
from gateways.models import Gateway
from tests.factories import AssetFactory, SiteFactory, gateway_with_secret
from tests.webhooks import Hook, alert, signed_headers

pytestmark = pytest.mark.django_db


def refused_with_nothing_stored(response, status):
    assert response.status_code == status, response.content
    assert Alert.objects.count() == 0
    body = response.json()
    assert body["errors"] and "message" in body["errors"][0]
    return body


# --- accepted --------------------------------------------------------------------------


def test_it_accepts_a_single_alert_and_stores_it_received(hook, pump):
    response = hook.post(alert("a-1", attributes={"axis": "x"}, message="bearing DE"))

    assert response.status_code == 202
    stored = Alert.objects.get()
    assert response.json() == {
        "accepted": 1,
        "duplicates": 0,
        "conflicts": 0,
        "unmatched": 0,
        "results": [{"alert_id": "a-1", "id": stored.pk, "status": "accepted"}],
    }
    assert stored.gateway == hook.gateway
    assert stored.site == pump.site
    assert stored.asset == pump
    assert stored.asset_tag == "P-101"
    assert stored.status == AlertStatus.RECEIVED
    assert stored.state == AlertState.ACTIVE
    assert stored.observed_at == datetime(2025, 5, 1, 12, tzinfo=UTC)
    assert (stored.value, stored.unit, stored.threshold) == (11.2, "mm/s", 7.1)
    assert stored.attributes == {"axis": "x"}
    assert stored.message == "bearing DE"
    assert len(stored.content_hash) == 64


def test_it_accepts_a_batch_in_a_fixed_number_of_queries(hook, pump, django_assert_num_queries):
    payload = {"alerts": [alert(f"a-{i}", severity="minor") for i in range(500)]}

    # gateway with secrets, insert (asset tags matched in it), the alerts' values as
    # measurements, last_seen, and the savepoint pair: none per alert.
    with django_assert_num_queries(6):
        response = hook.post(payload)

    assert response.status_code == 202
    assert response.json()["accepted"] == 500
    assert Alert.objects.filter(asset=pump, status=AlertStatus.RECEIVED).count() == 500


def test_it_accepts_observed_at_with_an_offset_and_stores_it_in_utc(hook):
    hook.post(alert(observed_at="2025-05-01T14:00:00.123456+02:00", state="cleared"))

    stored = Alert.objects.get()
    assert stored.observed_at == datetime(2025, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
    assert stored.state == AlertState.CLEARED


def test_it_records_when_the_gateway_was_last_seen(hook):
    hook.post(alert())

    assert Gateway.objects.get(pk=hook.gateway.pk).last_seen_at is not None


# --- idempotency ------------------------------------------------------------------------


def test_a_redelivered_alert_is_a_duplicate_and_stores_nothing_new(hook):
    first = hook.post(alert("a-1")).json()
    again = hook.post(alert("a-1")).json()

    assert again["duplicates"] == 1 and again["accepted"] == 0
    assert again["results"] == [
        {"alert_id": "a-1", "id": first["results"][0]["id"], "status": "duplicate"}
    ]
    assert Alert.objects.count() == 1


def test_a_redelivery_days_later_is_still_a_duplicate(hook):
    hook.post(alert("a-1"))
    Alert.objects.update(received_at=datetime.now(tz=UTC) - timedelta(days=9))

    assert hook.post(alert("a-1")).json()["duplicates"] == 1
    assert Alert.objects.count() == 1


def test_the_same_instant_in_another_offset_is_a_duplicate_not_a_conflict(hook):
    hook.post(alert("a-1", observed_at="2025-05-01T12:00:00Z"))

    answer = hook.post(alert("a-1", observed_at="2025-05-01T14:00:00+02:00")).json()

    assert answer["results"][0]["status"] == "duplicate"


def test_the_same_alert_id_with_other_content_is_a_conflict_and_keeps_the_original(hook):
    hook.post(alert("a-1", severity="major"))

    answer = hook.post(alert("a-1", severity="critical")).json()

    assert answer["results"][0]["status"] == "conflict"
    assert answer["accepted"] == 0
    assert Alert.objects.get().severity == "major"


def test_copies_within_one_batch_count_once_each_under_their_own_status(hook):
    payload = {
        "alerts": [
            alert("a-1"),
            alert("a-1"),
            alert("a-1", value=99.0),
            alert("a-2", asset="NOPE"),
        ]
    }

    answer = hook.post(payload).json()

    assert [r["status"] for r in answer["results"]] == [
        "accepted",
        "duplicate",
        "conflict",
        "unmatched",
    ]
    assert (answer["accepted"], answer["duplicates"], answer["conflicts"], answer["unmatched"]) == (
        1,
        1,
        1,
        1,
    )
    assert answer["results"][0]["id"] == answer["results"][1]["id"] == answer["results"][2]["id"]
    assert Alert.objects.count() == 2
    assert Alert.objects.get(alert_id="a-1").value == 11.2


def test_alert_ids_are_per_gateway(hook, site):
    other, other_secret = gateway_with_secret(site=site)
    hook.post(alert("a-1"))

    answer = Hook(other, other_secret).post(alert("a-1")).json()

    assert answer["accepted"] == 1
    assert Alert.objects.count() == 2


# --- assets -----------------------------------------------------------------------------


def test_an_unknown_asset_tag_is_stored_unmatched(hook):
    answer = hook.post(alert("a-1", asset="P-999")).json()

    assert answer["unmatched"] == 1 and answer["accepted"] == 0
    stored = Alert.objects.get()
    assert (stored.asset, stored.asset_tag, stored.status) == (None, "P-999", "unmatched")


def test_an_asset_tag_of_another_site_is_never_attached(hook):
    AssetFactory(site=SiteFactory(), tag="P-555")

    answer = hook.post(alert("a-1", asset="P-555")).json()

    assert answer["results"][0]["status"] == "unmatched"
    assert Alert.objects.get().asset is None


def test_the_same_tag_at_two_sites_resolves_to_the_gateways_site(hook, pump):
    AssetFactory(site=SiteFactory(), tag="P-101")

    hook.post(alert("a-1"))

    assert Alert.objects.get().asset == pump


# --- 401 --------------------------------------------------------------------------------


def test_a_missing_signature_is_refused(hook):
    response = hook.client.post(hook.url, data=json.dumps(alert()), content_type="application/json")

    refused_with_nothing_stored(response, 401)


def test_a_wrong_secret_is_refused(hook):
    _, foreign_secret = gateway_with_secret()

    refused_with_nothing_stored(hook.post(alert(), secret=foreign_secret), 401)


def test_a_tampered_body_is_refused(hook):
    body = json.dumps(alert())
    headers = signed_headers(hook.secret, body)
    tampered = body.replace("major", "minor")

    response = hook.client.post(
        hook.url, data=tampered, content_type="application/json", headers=headers
    )

    refused_with_nothing_stored(response, 401)


@pytest.mark.parametrize("skew", [timedelta(seconds=-301), timedelta(seconds=301)])
def test_a_timestamp_outside_five_minutes_is_refused(hook, skew):
    body = json.dumps(alert())
    headers = signed_headers(hook.secret, body, when=datetime.now(tz=UTC) + skew)

    response = hook.client.post(
        hook.url, data=body, content_type="application/json", headers=headers
    )

    refused_with_nothing_stored(response, 401)


def test_a_timestamp_within_the_tolerance_is_accepted(hook):
    body = json.dumps(alert())
    headers = signed_headers(hook.secret, body, when=datetime.now(tz=UTC) - timedelta(seconds=240))

    response = hook.client.post(
        hook.url, data=body, content_type="application/json", headers=headers
    )

    assert response.status_code == 202


def test_one_valid_signature_among_several_is_enough(hook):
    body = json.dumps(alert())
    headers = signed_headers(hook.secret, body)
    _, other = gateway_with_secret()
    wrong = signed_headers(other, body, msg_id=headers["webhook-id"])["webhook-signature"]
    headers["webhook-signature"] = f"{wrong} v2,abc {headers['webhook-signature']}"

    response = hook.client.post(
        hook.url, data=body, content_type="application/json", headers=headers
    )

    assert response.status_code == 202


def test_unknown_disabled_and_malformed_gateways_get_the_same_answer(hook):
    disabled, disabled_secret = gateway_with_secret(is_active=False)
    answers = [
        Hook(disabled, disabled_secret).post(alert()),
        Hook(Gateway(pk=uuid.uuid4()), hook.secret).post(alert()),
        hook.client.post(
            "/hooks/v1/gateways/not-a-uuid/alerts",
            data="{}",
            content_type="application/json",
            headers=signed_headers(hook.secret, "{}"),
        ),
        hook.post(alert(), secret=disabled_secret),
    ]

    assert {a.status_code for a in answers} == {401}
    assert len({a.content for a in answers}) == 1
    assert Alert.objects.count() == 0


def test_a_disabled_gateway_is_refused_and_accepted_again_once_enabled(hook):
    services.gateway_set_active(gateway=hook.gateway, is_active=False)
    refused_with_nothing_stored(hook.post(alert()), 401)

    services.gateway_set_active(gateway=hook.gateway, is_active=True)
    assert hook.post(alert()).status_code == 202


def test_the_signature_is_checked_before_the_body_is_parsed(hook):
    response = hook.post(body="{not json", secret=gateway_with_secret()[1])

    refused_with_nothing_stored(response, 401)


# --- rotation ---------------------------------------------------------------------------


def test_during_a_rotation_old_and_new_secrets_verify_until_the_old_is_retired(hook):
    old = hook.secret
    new = services.gateway_rotate_secret(gateway=hook.gateway)
    assert new != old and new.startswith("whsec_")

    assert hook.post(alert("a-1"), secret=old).status_code == 202
    assert hook.post(alert("a-2"), secret=new).status_code == 202

    assert services.gateway_retire_secrets(gateway=hook.gateway) == 1

    refused = hook.post(alert("a-3"), secret=old)
    assert refused.status_code == 401
    assert hook.post(alert("a-4"), secret=new).status_code == 202
    assert set(Alert.objects.values_list("alert_id", flat=True)) == {"a-1", "a-2", "a-4"}


def test_a_gateway_signing_with_both_secrets_during_a_rotation_is_accepted(hook):
    new = services.gateway_rotate_secret(gateway=hook.gateway)
    services.gateway_retire_secrets(gateway=hook.gateway)
    body = json.dumps(alert())
    headers = signed_headers(hook.secret, body)
    when = datetime.fromtimestamp(int(headers["webhook-timestamp"]), tz=UTC)
    both = Webhook(new).sign(headers["webhook-id"], when, body)
    headers["webhook-signature"] = f"{headers['webhook-signature']} {both}"

    response = hook.client.post(
        hook.url, data=body, content_type="application/json", headers=headers
    )

    assert response.status_code == 202


# --- 400 --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("{not json", None),
        ("[]", None),
        ('"text"', None),
        ('{"alerts": []}', "alerts"),
        ('{"alerts": {}}', "alerts"),
        ('{"alerts": [], "extra": 1}', "extra"),
        (json.dumps({k: v for k, v in alert().items() if k != "alert_id"}), "alert_id"),
        (json.dumps(alert(alert_id="")), "alert_id"),
        (json.dumps(alert(alert_id="x" * 129)), "alert_id"),
        (json.dumps(alert(alert_id=7)), "alert_id"),
        (json.dumps(alert(asset=None)), "asset"),
        (json.dumps(alert(condition="Vibration High")), "condition"),
        (json.dumps(alert(condition="x" * 65)), "condition"),
        (json.dumps(alert(severity="fatal")), "severity"),
        (json.dumps(alert(state="gone")), "state"),
        (json.dumps(alert(observed_at="2025-05-01T12:00:00")), "observed_at"),
        (json.dumps(alert(observed_at="yesterday")), "observed_at"),
        (json.dumps(alert(observed_at="2025-02-30T12:00:00Z")), "observed_at"),
        (json.dumps(alert(value="11")), "value"),
        (json.dumps(alert(value=True)), "value"),
        (
            '{"alert_id":"a","asset":"P-101","condition":"c","severity":"major",'
            '"observed_at":"2025-05-01T12:00:00Z","value":NaN}',
            None,
        ),
        (json.dumps(alert(value=1e308 * 10)), None),
        (json.dumps(alert(threshold=[1])), "threshold"),
        (json.dumps(alert(unit=5)), "unit"),
        (json.dumps(alert(message="m" * 2001)), "message"),
        (json.dumps(alert(message="nul\u0000byte")), "message"),
        (json.dumps(alert(attributes=[1, 2])), "attributes"),
        (json.dumps(alert(attributes={"blob": "x" * 16400})), "attributes"),
        (json.dumps(alert(attributes={"k": "nul\u0000"})), "attributes"),
        (json.dumps(alert(surprise=1)), "surprise"),
        ('{"alert_id": "\\ud800", "asset": "P-101"}', "alert_id"),
        ("[" * 100_000, None),
    ],
)
def test_a_schema_error_refuses_the_whole_request(hook, body, field):
    response = hook.post(body=body)

    errors = refused_with_nothing_stored(response, 400)["errors"]
    if field is not None:
        assert field in {e["field"] for e in errors}


def test_one_bad_alert_in_a_batch_refuses_all_and_names_its_index_and_field(hook):
    payload = {"alerts": [alert("a-1"), alert("a-2", severity="bad"), alert("a-3")]}

    errors = refused_with_nothing_stored(hook.post(payload), 400)["errors"]

    assert errors == [
        {
            "index": 1,
            "field": "severity",
            "message": "Must be one of critical, major, minor, warning.",
        }
    ]


def test_a_batch_of_more_than_1000_alerts_is_refused(hook):
    payload = {"alerts": [alert(f"a-{i}") for i in range(1001)]}

    refused_with_nothing_stored(hook.post(payload), 400)


def test_a_batch_of_1000_alerts_is_accepted(hook):
    payload = {"alerts": [alert(f"a-{i}") for i in range(1000)]}

    assert hook.post(payload).json()["accepted"] == 1000


# --- 413, 415, 405 ----------------------------------------------------------------------


def test_a_body_over_one_mib_is_refused_with_413(hook):
    body = json.dumps({"alerts": [alert("a-1", message="m" * 2000)] * 600})
    assert len(body) > 1024 * 1024

    refused_with_nothing_stored(hook.post(body=body), 413)


def test_a_declared_length_over_one_mib_is_refused_before_reading(hook):
    stream = mock.MagicMock()
    response = hook.client.generic(
        "POST",
        hook.url,
        data=b"{}",
        content_type="application/json",
        CONTENT_LENGTH=str(50 * 1024 * 1024),
        **{"wsgi.input": stream},
    )

    refused_with_nothing_stored(response, 413)
    stream.read.assert_not_called()


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1", ""],
)
def test_a_non_json_content_type_is_refused_with_415(hook, content_type):
    refused_with_nothing_stored(hook.post(alert(), content_type=content_type), 415)


def test_json_with_a_utf8_charset_is_accepted(hook):
    response = hook.post(alert(), content_type="Application/JSON; charset=UTF-8")

    assert response.status_code == 202


def test_other_methods_are_not_allowed(hook):
    response = Client().get(hook.url)

    assert response.status_code == 405
    assert response["Allow"] == "POST"


# --- 429, 503 ---------------------------------------------------------------------------


def test_a_gateway_over_its_rate_gets_429_with_retry_after(hook):
    Gateway.objects.filter(pk=hook.gateway.pk).update(rate_limit_per_minute=2)

    assert hook.post(alert("a-1")).status_code == 202
    assert hook.post(alert("a-2")).status_code == 202
    response = hook.post(alert("a-3"))

    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert not Alert.objects.filter(alert_id="a-3").exists()


def test_the_rate_limit_fails_open_when_the_cache_is_down(hook):
    with mock.patch("gateways.ratelimit.cache.add", side_effect=ConnectionError("cache down")):
        response = hook.post(alert())

    assert response.status_code == 202


def test_an_unavailable_database_answers_503_with_retry_after(hook):
    with mock.patch("alerts.services._insert_new", side_effect=OperationalError("connection lost")):
        response = hook.post(alert())

    refused_with_nothing_stored(response, 503)
    assert response["Retry-After"] == "5"


def test_an_unavailable_database_during_authentication_answers_503(hook):
    with mock.patch("gateways.services.gateway_for_webhook", side_effect=OperationalError("down")):
        response = hook.post(alert())

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
