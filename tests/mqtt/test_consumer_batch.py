"""The consumer's batches: PUBACKs held back until the batch's commit (paho 1.6.1's internals,
checked here), one transaction and one ingest call per gateway and channel, a bad message
rejected on its own, a lost race or a bug handled again message by message."""

import json
import struct
from datetime import timedelta

import paho.mqtt.client as paho
import pytest
from django.db import OperationalError
from django.utils import timezone
from paho.mqtt import __version__ as paho_installed

from alerts import services as alert_services
from alerts.models import Alert
from alerts.services import IngestRaced
from assets.models import MeterReading
from gateways.models import Gateway
from mqtt import consumer as consumer_module
from mqtt.consumer import (
    EXIT_DATABASE,
    GROUP_ITEMS,
    PAHO_VERSION,
    Broker,
    Consumer,
    DeferredAckClient,
    StopConsuming,
)
from mqtt.models import RejectedMessage
from mqtt.topics import json_topic
from tests.factories import AssetFactory, MeterFactory, SiteFactory, gateway_with_secret
from tests.webhooks import alert

pytestmark = pytest.mark.django_db


@pytest.fixture
def gateway():
    site = SiteFactory()
    AssetFactory(site=site, tag="P-101")
    gateway, _ = gateway_with_secret(site=site)
    return gateway


@pytest.fixture(autouse=True)
def _keep_the_test_connection(monkeypatch):
    # As in test_consumer_messages: the connection holds the test's transaction.
    monkeypatch.setattr(consumer_module, "close_old_connections", lambda: None)


def consumer() -> Consumer:
    broker = Broker(host="127.0.0.1", port=1883, username="u", password="p", tls=False)
    return Consumer(broker=broker, client_id="test-consumer")


def message(topic: str, payload, *, mid: int = 1, retain: bool = False) -> paho.MQTTMessage:
    msg = paho.MQTTMessage(mid=mid, topic=topic.encode())
    msg.payload = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    msg.qos, msg.retain = 1, int(retain)
    return msg


def publish_packet(client: paho.Client, *, topic: bytes, mid: int, payload: bytes) -> None:
    """Hand the client a QoS 1 PUBLISH as its socket reader would have read it."""
    client._in_packet = {
        "command": paho.PUBLISH | (1 << 1),
        "packet": struct.pack("!H", len(topic)) + topic + struct.pack("!H", mid) + payload,
    }


def pubacks(client: paho.Client) -> list[int]:
    return [
        struct.unpack("!BBH", packet["packet"])[2]
        for packet in client._out_packet
        if packet["command"] == paho.PUBACK
    ]


# ---------------------------------------------------------------- paho's acknowledgement


def test_paho_acknowledges_through_send_puback_which_the_consumer_holds_back():
    """Fails if paho changes how it acknowledges QoS 1: then the override defers nothing and
    messages would be acknowledged before their batch is committed."""
    assert paho_installed == PAHO_VERSION
    assert callable(getattr(paho.Client, "_send_puback", None))

    plain = paho.Client(client_id="plain")
    plain.on_message = lambda *args: None
    publish_packet(plain, topic=b"cmms/v1/gateways/x/alerts", mid=7, payload=b"{}")
    plain._handle_publish()
    assert pubacks(plain) == [7]  # paho 1.6.1 acknowledges as on_message returns

    deferring = DeferredAckClient(client_id="deferring")
    received = []
    deferring.on_message = lambda client, userdata, msg: received.append(msg.mid)
    for mid in (7, 8, 9):
        publish_packet(deferring, topic=b"cmms/v1/gateways/x/alerts", mid=mid, payload=b"{}")
        deferring._handle_publish()
    assert received == [7, 8, 9]
    assert (pubacks(deferring), deferring.deferred_acks) == ([], [7, 8, 9])

    deferring.acknowledge()
    assert (pubacks(deferring), deferring.deferred_acks) == ([7, 8, 9], [])


def test_the_consumer_refuses_another_paho_version(monkeypatch):
    monkeypatch.setattr(consumer_module, "PAHO_INSTALLED", "2.1.0")
    with pytest.raises(Exception, match=r"paho-mqtt 2\.1\.0 is installed"):
        consumer()


def test_a_batch_is_acknowledged_after_its_commit_and_not_at_all_when_the_database_is_down(
    gateway, monkeypatch
):
    topic = json_topic(gateway.pk, "alerts")
    ok = consumer()
    ok.client.on_message = ok._on_message
    for mid in (1, 2, 3):
        publish_packet(ok.client, topic=topic.encode(), mid=mid, payload=b'{"alerts": []}')
        ok.client._handle_publish()
    assert (len(ok.batch), pubacks(ok.client)) == (3, [])
    ok._consume_batch()
    assert (ok.batch, pubacks(ok.client)) == ([], [1, 2, 3])

    def down(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(consumer_module, "message_handle", down)
    failing = consumer()
    failing.client.on_message = failing._on_message
    for mid in (4, 5):
        publish_packet(failing.client, topic=topic.encode(), mid=mid, payload=b"{}")
        failing.client._handle_publish()
    with pytest.raises(StopConsuming) as stopped:
        failing._consume_batch()
    assert stopped.value.exit_code == EXIT_DATABASE
    assert "a batch of 2 messages left unacknowledged" in str(stopped.value)
    assert pubacks(failing.client) == []


# ---------------------------------------------------------------- a batch in one transaction


def test_a_batch_is_stored_with_one_ingest_per_gateway_and_channel(gateway, monkeypatch):
    other, _ = gateway_with_secret(site=gateway.site)
    meter = MeterFactory(asset=gateway.site.assets.get(), code="hours")
    calls = []
    real_ingest = alert_services.alerts_ingest

    def counted(*, gateway, alerts, now):
        calls.append((gateway.pk, [a.alert_id for a in alerts]))
        return real_ingest(gateway=gateway, alerts=alerts, now=now)

    monkeypatch.setattr(alert_services, "alerts_ingest", counted)
    start = timezone.now() - timedelta(hours=1)
    readings = [
        {
            "readings": [
                {
                    "reading_id": f"r-{n}",
                    "asset": "P-101",
                    "meter": "hours",
                    "value": 10 + n,
                    "observed_at": (start + timedelta(minutes=n)).isoformat(),
                }
            ]
        }
        for n in range(3)
    ]
    batch = [
        message(json_topic(gateway.pk, "alerts"), alert("a-1"), mid=1),
        message(json_topic(gateway.pk, "readings"), readings[0], mid=2),
        message(json_topic(other.pk, "alerts"), alert("a-1"), mid=3),
        message(json_topic(gateway.pk, "alerts"), {"alerts": [alert("a-2"), alert("a-3")]}, mid=4),
        message(json_topic(gateway.pk, "readings"), readings[1], mid=5),
        message(json_topic(gateway.pk, "heartbeat"), {"firmware": "2.0.0"}, mid=6),
        message(json_topic(gateway.pk, "alerts"), alert("a-1"), mid=7),  # a redelivery
        message(json_topic(gateway.pk, "readings"), readings[2], mid=8),
        message(json_topic(gateway.pk, "heartbeat"), {"firmware": "2.0.1"}, mid=9),
    ]
    consumer().batch_handle(batch)

    assert calls == [(gateway.pk, ["a-1", "a-2", "a-3", "a-1"]), (other.pk, ["a-1"])]
    assert Alert.objects.filter(gateway=gateway).count() == 3
    assert Alert.objects.filter(gateway=other).count() == 1
    assert list(
        MeterReading.objects.filter(meter=meter)
        .order_by("observed_at")
        .values_list("value", flat=True)
    ) == [10, 11, 12]
    gateway.refresh_from_db()
    assert (gateway.firmware, gateway.last_seen_at is not None) == ("2.0.1", True)
    assert Gateway.objects.get(pk=other.pk).last_seen_at is not None
    assert not RejectedMessage.objects.exists()


def test_a_big_batch_is_ingested_in_calls_of_at_most_the_webhooks_largest_body(
    gateway, monkeypatch
):
    sizes = []
    real_ingest = alert_services.alerts_ingest

    def counted(*, gateway, alerts, now):
        sizes.append(len(alerts))
        return real_ingest(gateway=gateway, alerts=alerts, now=now)

    monkeypatch.setattr(alert_services, "alerts_ingest", counted)
    per_message = GROUP_ITEMS // 2 + 1
    batch = [
        message(
            json_topic(gateway.pk, "alerts"),
            {"alerts": [alert(f"a-{m}-{n}") for n in range(per_message)]},
            mid=m,
        )
        for m in range(3)
    ]
    consumer().batch_handle(batch)

    assert sizes == [per_message] * 3
    assert Alert.objects.count() == 3 * per_message


def test_a_bad_message_in_a_batch_is_rejected_and_the_rest_stored(gateway):
    batch = [
        message(json_topic(gateway.pk, "alerts"), alert("a-1"), mid=1),
        message(json_topic(gateway.pk, "alerts"), alert("a-2", severity="loud"), mid=2),
        message("spBv1.0/nowhere/NDATA/nobody", b"\x08\x01", mid=3),
        message(json_topic(gateway.pk, "heartbeat"), {"firmware": "1"}, mid=4, retain=True),
        message("spBv1.0/STATE/other-host", b'{"online": true, "timestamp": 1}', mid=5),
        message(json_topic(gateway.pk, "alerts"), alert("a-3"), mid=6),
    ]
    consumer().batch_handle(batch)

    assert sorted(Alert.objects.values_list("alert_id", flat=True)) == ["a-1", "a-3"]
    reasons = dict(RejectedMessage.objects.values_list("topic", "reason"))
    assert set(reasons) == {
        json_topic(gateway.pk, "alerts"),
        "spBv1.0/nowhere/NDATA/nobody",
        json_topic(gateway.pk, "heartbeat"),
    }
    assert reasons[json_topic(gateway.pk, "alerts")] == (
        "item 0 severity: Must be one of critical, major, minor, warning."
    )
    assert reasons[json_topic(gateway.pk, "heartbeat")] == consumer_module.RETAINED
    assert Gateway.objects.get(pk=gateway.pk).firmware != "1"


def test_a_batch_that_lost_a_race_is_handled_again_message_by_message(gateway, monkeypatch):
    real_ingest = alert_services.alerts_ingest
    calls = []

    def raced_once(*, gateway, alerts, now):
        calls.append(len(alerts))
        if len(calls) == 1:
            raise IngestRaced("A conflicting alert disappeared; retry the request.")
        return real_ingest(gateway=gateway, alerts=alerts, now=now)

    monkeypatch.setattr(alert_services, "alerts_ingest", raced_once)
    batch = [
        message(json_topic(gateway.pk, "alerts"), alert("a-1"), mid=1),
        message(json_topic(gateway.pk, "alerts"), alert("a-2", severity="loud"), mid=2),
        message(json_topic(gateway.pk, "alerts"), alert("a-3"), mid=3),
    ]
    consumer().batch_handle(batch)

    assert calls == [2, 1, 1]
    assert sorted(Alert.objects.values_list("alert_id", flat=True)) == ["a-1", "a-3"]
    assert RejectedMessage.objects.count() == 1  # the batch's own record was rolled back


def test_a_bug_in_a_batch_is_rejected_for_its_message_only(gateway, monkeypatch):
    real_ingest = alert_services.alerts_ingest

    def bug_for_a_2(*, gateway, alerts, now):
        if any(a.alert_id == "a-2" for a in alerts):
            raise ZeroDivisionError
        return real_ingest(gateway=gateway, alerts=alerts, now=now)

    monkeypatch.setattr(alert_services, "alerts_ingest", bug_for_a_2)
    batch = [message(json_topic(gateway.pk, "alerts"), alert(f"a-{n}"), mid=n) for n in range(1, 4)]
    consumer().batch_handle(batch)

    assert sorted(Alert.objects.values_list("alert_id", flat=True)) == ["a-1", "a-3"]
    assert RejectedMessage.objects.get().reason == (
        "Internal error (ZeroDivisionError); see the consumer's log."
    )


def test_celerys_producer_is_opened_before_the_first_batch_and_a_broker_down_is_not_fatal(
    monkeypatch, caplog
):
    app = consumer_module.current_celery_app
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    opened = []

    class Producer:
        class connection:  # kombu's attribute
            @staticmethod
            def ensure_connection(max_retries):
                opened.append(max_retries)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(app, "producer_or_acquire", Producer)
    consumer()._warm_up()
    assert opened == [1]

    def down():
        raise ConnectionRefusedError("redis is down")

    monkeypatch.setattr(app, "producer_or_acquire", down)
    consumer()._warm_up()
    assert "Celery's broker is not reachable yet (redis is down)." in caplog.text
