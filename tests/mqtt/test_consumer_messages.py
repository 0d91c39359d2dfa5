"""What the MQTT consumer does with one message, without a broker: the plain JSON topics store
through the webhooks' channels, anything unacceptable is recorded with its reason, and the
database failing leaves the message unacknowledged (fast tests; the real processes are in
test_consumer_process.py)."""

import json
from datetime import timedelta

import paho.mqtt.client as paho
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError
from django.utils import timezone

from alerts.models import Alert
from alerts.services import IngestRaced
from assets.models import MeterReading
from gateways.channels import MAX_BODY_BYTES
from gateways.messages import MessageRejected
from gateways.models import Gateway, Sensor
from gateways.services import gateway_retire_secrets, gateway_rotate_secret
from mqtt import consumer as consumer_module
from mqtt.consumer import (
    EXIT_DATABASE,
    EXIT_RACED,
    Broker,
    Consumer,
    StopConsuming,
    message_handle,
)
from mqtt.models import RejectedMessage
from mqtt.records import PRUNE_EVERY, rejected_message_record, rejected_messages_prune
from mqtt.topics import json_topic
from tests.factories import (
    AssetFactory,
    MeterFactory,
    PlannerFactory,
    SiteFactory,
    SuperuserFactory,
    gateway_with_secret,
)
from tests.webhooks import alert

pytestmark = pytest.mark.django_db


@pytest.fixture
def gateway():
    site = SiteFactory()
    AssetFactory(site=site, tag="P-101")
    gateway, _ = gateway_with_secret(site=site)
    return gateway


def handle(topic: str, payload: bytes | dict):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return message_handle(topic=topic, payload=body, now=timezone.now())


def message(topic: str, payload: bytes, qos: int = 1) -> paho.MQTTMessage:
    msg = paho.MQTTMessage(mid=1, topic=topic.encode())
    msg.payload, msg.qos = payload, qos
    return msg


@pytest.fixture(autouse=True)
def _keep_the_test_connection(monkeypatch):
    # The consumer replaces broken connections before each message; here the connection holds
    # the test's transaction (what Django's test client does with request_started, too).
    monkeypatch.setattr(consumer_module, "close_old_connections", lambda: None)


def consumer() -> Consumer:
    broker = Broker(host="127.0.0.1", port=1883, username="u", password="p", tls=False)
    return Consumer(broker=broker, client_id="test-consumer")


# ---------------------------------------------------------------- the plain JSON topics


def test_an_alert_is_stored_for_the_gateway_its_topic_names_and_once(gateway):
    handle(json_topic(gateway.pk, "alerts"), alert("a-1"))
    handle(json_topic(gateway.pk, "alerts"), alert("a-1"))  # a redelivery

    stored = Alert.objects.get()
    assert (stored.gateway_id, stored.site_id, stored.alert_id) == (
        gateway.pk,
        gateway.site_id,
        "a-1",
    )
    assert stored.asset.tag == "P-101"
    assert Gateway.objects.get(pk=gateway.pk).last_seen_at is not None


def test_a_batch_of_alerts_is_the_webhooks_body(gateway):
    handle(json_topic(gateway.pk, "alerts"), {"alerts": [alert("a-1"), alert("a-2")]})

    assert sorted(Alert.objects.values_list("alert_id", flat=True)) == ["a-1", "a-2"]


def test_readings_are_stored_once_per_reading_id(gateway):
    meter = MeterFactory(asset=gateway.site.assets.get(), code="hours")
    body = {
        "readings": [
            {
                "reading_id": "r-1",
                "asset": "P-101",
                "meter": "hours",
                "value": 12.5,
                "observed_at": (timezone.now() - timedelta(minutes=1)).isoformat(),
            }
        ]
    }
    handle(json_topic(gateway.pk, "readings"), body)
    handle(json_topic(gateway.pk, "readings"), body)

    assert MeterReading.objects.get(meter=meter).value == 12.5


def test_a_heartbeat_records_the_gateway_and_its_sensors(gateway):
    handle(
        json_topic(gateway.pk, "heartbeat"),
        {"firmware": "2.1.0", "sensors": [{"id": "vib-1", "battery_percent": 80}]},
    )

    gateway.refresh_from_db()
    assert (gateway.firmware, gateway.last_heartbeat_at is not None) == ("2.1.0", True)
    assert Sensor.objects.get(gateway=gateway).code == "vib-1"


# ---------------------------------------------------------------- what is rejected, and why


def rejection(topic: str, payload: bytes | dict) -> MessageRejected:
    with pytest.raises(MessageRejected) as caught:
        handle(topic, payload)
    return caught.value


def test_a_body_against_the_schema_is_rejected_with_every_field_error(gateway):
    refused = rejection(json_topic(gateway.pk, "alerts"), alert("a-1", severity="bad", asset=""))

    assert refused.gateway.pk == gateway.pk
    assert refused.reason.splitlines()[0] == "The body breaks its schema:"
    assert "asset: " in refused.reason
    assert "severity: Must be one of critical, major, minor, warning." in refused.reason
    assert not Alert.objects.exists()


def test_malformed_json_is_rejected(gateway):
    refused = rejection(json_topic(gateway.pk, "alerts"), b"{not json")

    assert "Malformed JSON" in refused.reason


def test_an_unknown_topic_kind_is_rejected(gateway):
    refused = rejection(json_topic(gateway.pk, "events"), alert())

    assert refused.reason == "Unknown topic 'events': expected one of alerts, readings, heartbeat."


def test_a_body_over_the_webhooks_limit_is_rejected(gateway):
    refused = rejection(json_topic(gateway.pk, "alerts"), b" " * (MAX_BODY_BYTES + 1))

    assert f"at most {MAX_BODY_BYTES} are accepted" in refused.reason


def test_a_malformed_or_unknown_gateway_id_is_rejected_without_a_gateway():
    assert rejection(json_topic("nope", "alerts"), alert()).reason == "'nope' is no gateway id."
    unknown = rejection(json_topic("0" * 8 + "-0000-0000-0000-" + "0" * 12, "alerts"), alert())
    assert unknown.reason.startswith("No gateway has the id ")
    assert unknown.gateway is None


def test_a_disabled_gateway_or_one_without_a_live_secret_is_rejected(gateway):
    Gateway.objects.filter(pk=gateway.pk).update(is_active=False)
    disabled = rejection(json_topic(gateway.pk, "alerts"), alert())
    assert disabled.reason == "The gateway is disabled or has no live secret."
    assert disabled.gateway.pk == gateway.pk

    Gateway.objects.filter(pk=gateway.pk).update(is_active=True)
    gateway.secrets.update(retired_at=timezone.now())
    assert rejection(json_topic(gateway.pk, "alerts"), alert()).gateway.pk == gateway.pk


def test_a_rotated_secret_keeps_the_gateway_admitted(gateway):
    gateway_rotate_secret(gateway=gateway)
    gateway_retire_secrets(gateway=gateway)

    handle(json_topic(gateway.pk, "alerts"), alert("a-1"))

    assert Alert.objects.count() == 1


def test_a_topic_outside_the_subscriptions_is_rejected():
    assert rejection("other/topic", b"{}").reason == "Not a topic the consumer reads."


def test_a_retained_message_replayed_by_the_broker_is_rejected_not_stored_again(gateway):
    body = json.dumps({"firmware": "1.0"}).encode()
    topic = json_topic(gateway.pk, "heartbeat")
    with pytest.raises(MessageRejected, match="retained message"):
        message_handle(topic=topic, payload=body, now=timezone.now(), retained=True)

    assert Gateway.objects.get(pk=gateway.pk).last_heartbeat_at is None


def test_a_sparkplug_state_message_is_ignored():
    handle("spBv1.0/STATE/cmms", b'{"online": true, "timestamp": 1}')
    message_handle(topic="spBv1.0/STATE/other", payload=b"{}", now=timezone.now(), retained=True)

    assert not RejectedMessage.objects.exists()


# ---------------------------------------------------------------- the consumer's callback


def test_a_rejected_message_is_recorded_with_its_reason_and_a_safe_excerpt(gateway, caplog):
    payload = b'{"alert_id": "\x00<script>", \xff' + b"x" * 1000
    consumer().batch_handle([message(json_topic(gateway.pk, "alerts"), payload)])

    record = RejectedMessage.objects.get()
    assert (record.gateway_id, record.site_id, record.qos, record.size) == (
        gateway.pk,
        gateway.site_id,
        1,
        len(payload),
    )
    assert record.reason.startswith("Malformed JSON")
    assert record.excerpt.startswith('{"alert_id": "\ufffd<script>", \ufffd')
    assert len(record.excerpt.encode()) < 520
    (line,) = [r.getMessage() for r in caplog.records if r.name == "mqtt.consumer"]
    assert line.startswith(f"Rejected a message on cmms/v1/gateways/{gateway.pk}/alerts:")
    assert len(line) < 400


def test_a_database_error_stops_the_consumer_without_acknowledging(gateway, monkeypatch):
    def down(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(consumer_module, "message_handle", down)
    with pytest.raises(StopConsuming) as stopped:
        consumer().batch_handle([message(json_topic(gateway.pk, "alerts"), b"{}")])

    assert stopped.value.exit_code == EXIT_DATABASE
    assert not RejectedMessage.objects.exists()


def test_a_lost_race_is_handled_again_and_then_leaves_the_message_unacknowledged(
    gateway, monkeypatch
):
    calls = []

    def raced_once(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise IngestRaced

    monkeypatch.setattr(consumer_module, "message_handle", raced_once)
    consumer().batch_handle([message(json_topic(gateway.pk, "alerts"), b"{}")])
    assert len(calls) == 2

    def always_raced(**kwargs):
        raise IngestRaced

    monkeypatch.setattr(consumer_module, "message_handle", always_raced)
    with pytest.raises(StopConsuming) as stopped:
        consumer().batch_handle([message(json_topic(gateway.pk, "alerts"), b"{}")])
    assert stopped.value.exit_code == EXIT_RACED


def test_an_unexpected_error_is_recorded_and_acknowledged_not_retried_forever(monkeypatch):
    def bug(**kwargs):
        raise ZeroDivisionError

    monkeypatch.setattr(consumer_module, "message_handle", bug)
    consumer().batch_handle([message("spBv1.0/g/NDATA/n", b"\x08\x01")])

    assert RejectedMessage.objects.get().reason == (
        "Internal error (ZeroDivisionError); see the consumer's log."
    )


def test_a_rejection_that_cannot_be_recorded_is_still_acknowledged(monkeypatch, caplog):
    def broken(**kwargs):
        raise ValueError("a bug in recording")

    monkeypatch.setattr(consumer_module, "rejected_message_record", broken)
    odd = paho.MQTTMessage(mid=1, topic=b"cmms/v1/gateways/\xff/alerts")
    odd.payload = b"{}"
    consumer().batch_handle([odd])  # returns: the consumer acknowledges it

    assert "Could not record the rejected message on cmms/v1/gateways/\ufffd/alerts." in (
        caplog.text
    )


# ---------------------------------------------------------------- records, admin, settings


def test_rejected_messages_older_than_30_days_are_pruned():
    now = timezone.now()
    for days in (31, 29):
        rejected_message_record(topic="t", payload=b"", reason="r", now=now - timedelta(days=days))

    assert rejected_messages_prune(now=now) == 1
    assert RejectedMessage.objects.get().received_at == now - timedelta(days=29)


def test_recording_prunes_every_so_many_rows(monkeypatch):
    now = timezone.now()
    rejected_message_record(topic="t", payload=b"", reason="old", now=now - timedelta(days=40))
    monkeypatch.setattr("mqtt.records.PRUNE_EVERY", 1)
    rejected_message_record(topic="t", payload=b"", reason="new", now=now)

    assert list(RejectedMessage.objects.values_list("reason", flat=True)) == ["new"]
    assert PRUNE_EVERY > 1


def test_planners_see_their_sites_rejections_and_superusers_see_every_one(client, gateway):
    other = gateway_with_secret(site=SiteFactory())[0]
    now = timezone.now()
    mine = rejected_message_record(
        topic="cmms/v1/gateways/x/alerts",
        payload=b"<b>bold</b>",
        reason="r",
        now=now,
        gateway=gateway,
    )
    rejected_message_record(topic="foreign", payload=b"", reason="r", now=now, gateway=other)
    rejected_message_record(topic="nobody", payload=b"", reason="r", now=now)

    client.force_login(PlannerFactory(sites=[gateway.site]))
    listing = client.get("/admin/mqtt/rejectedmessage/").content.decode()
    assert "cmms/v1/gateways/x/alerts" in listing
    assert "foreign" not in listing and "nobody" not in listing
    page = client.get(f"/admin/mqtt/rejectedmessage/{mine.pk}/change/").content.decode()
    assert "&lt;b&gt;bold&lt;/b&gt;" in page and "<b>bold</b>" not in page
    assert client.post(f"/admin/mqtt/rejectedmessage/{mine.pk}/delete/").status_code == 403

    client.force_login(SuperuserFactory())
    listing = client.get("/admin/mqtt/rejectedmessage/").content.decode()
    assert "foreign" in listing and "nobody" in listing


def test_the_broker_url_is_read_with_its_credentials():
    broker = Broker.from_url("mqtts://cmms:p%40ss@broker.example:8884")

    assert broker == Broker(
        host="broker.example", port=8884, tls=True, username="cmms", password="p@ss"
    )
    assert Broker.from_url("mqtt://u:p@h").port == 1883
    assert "p@ss" not in repr(broker)


def test_the_consumer_refuses_to_start_without_a_broker(settings):
    settings.MQTT_URL = ""
    with pytest.raises(CommandError, match="MQTT_URL is empty"):
        call_command("mqtt_consume")
    settings.MQTT_URL = "http://broker.example"
    with pytest.raises(CommandError, match="MQTT_URL must look like"):
        call_command("mqtt_consume")
