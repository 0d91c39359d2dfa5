"""The MQTT consumer as it runs in production: `manage.py mqtt_consume` subprocesses on the
test database, a private Mosquitto with dynamic security, a gateway publishing as its own broker
client, a SIGKILLed consumer and a restarted broker.

The consumer runs Celery eagerly (no CELERY_BROKER_URL in its environment): each alert is
processed into its work order right after its message is committed. A consumer killed between
the two leaves the alert `received`, which the sweeper takes up, as in production.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import paho.mqtt.client as paho
import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from alerts.choices import AlertStatus
from alerts.models import Alert
from alerts.sweeping import alerts_sweep
from assets.models import MeterReading
from gateways.models import Gateway
from mqtt.consumer import EXIT_DATABASE
from mqtt.models import RejectedMessage
from pipeline.models import AlertRule
from pm.models import GatewayReading
from tests import workers
from tests.factories import AssetFactory, MeterFactory, SiteFactory, gateway_with_secret
from tests.mosquitto import ADMIN_PASSWORD, ADMIN_USERNAME
from tests.workers import ROOT, wait_until
from workorders.models import WorkOrder

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("real_clock"),
]


def dynsec(mosquitto, *args: str) -> None:
    subprocess.run(
        [
            *("mosquitto_ctrl", "-h", "127.0.0.1", "-p", str(mosquitto.port)),
            *("-u", ADMIN_USERNAME, "-P", ADMIN_PASSWORD, "dynsec", *args),
        ],
        check=True,
        capture_output=True,
        timeout=10,
    )


CONSUMER_USERNAME, CONSUMER_PASSWORD = "cmms", "consumer-password-for-tests"


def consumer_account(mosquitto) -> str:
    """The system's own client: reads every gateway topic, publishes the host's STATE. (Changing
    the admin's own roles would make mosquitto_ctrl wait seconds for its kicked session.)"""
    dynsec(mosquitto, "createClient", CONSUMER_USERNAME, "-p", CONSUMER_PASSWORD)
    dynsec(mosquitto, "createRole", "cmms-host")
    for acl, topic in (
        ("subscribePattern", "cmms/v1/gateways/+/+"),
        ("subscribePattern", "spBv1.0/#"),
        ("publishClientSend", "spBv1.0/STATE/#"),
    ):
        dynsec(mosquitto, "addRoleACL", "cmms-host", acl, topic, "allow")
    dynsec(mosquitto, "addClientRole", CONSUMER_USERNAME, "cmms-host")
    return f"mqtt://{CONSUMER_USERNAME}:{CONSUMER_PASSWORD}@127.0.0.1:{mosquitto.port}"


def gateway_account(mosquitto, gateway, secret) -> None:
    """The gateway's broker client as the contract has it: its id and secret, its own topics."""
    name, role = str(gateway.pk), f"gateway-{gateway.pk}"
    dynsec(mosquitto, "createClient", name, "-p", secret)
    dynsec(mosquitto, "createRole", role)
    topic = f"cmms/v1/gateways/{gateway.pk}/#"
    dynsec(mosquitto, "addRoleACL", role, "publishClientSend", topic, "allow")
    dynsec(mosquitto, "addRoleACL", role, "subscribePattern", "spBv1.0/STATE/#", "allow")
    dynsec(mosquitto, "addClientRole", name, role)


class ConsumerProcess:
    """`manage.py mqtt_consume` in its own process group, logging to a file."""

    def __init__(self, mqtt_url: str):
        self.env = {
            **os.environ,
            "DATABASE_URL": workers.test_database_url(),
            "MQTT_URL": mqtt_url,
            "MQTT_CLIENT_ID": f"test-consumer-{uuid.uuid4().hex[:8]}",
            "LOG_LEVEL": "INFO",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        }
        self.env.pop("CELERY_BROKER_URL", None)
        self.log_path = Path(tempfile.mkstemp(prefix="cmms-mqtt-consumer-", suffix=".log")[1])
        self.process = None

    def start(self):
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "mqtt_consume", "--keepalive", "5"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def kill(self):
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=20)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


class GatewayClient:
    """A gateway on the broker: publishes its JSON topics with QoS 1, watches the host's STATE."""

    def __init__(self, mosquitto, gateway, secret):
        self.gateway = gateway
        self.states: list[dict] = []
        self.client = paho.Client(client_id=f"gateway-{uuid.uuid4().hex[:8]}")
        self.client.username_pw_set(str(gateway.pk), secret)
        self.client.on_connect = lambda c, u, f, rc: c.subscribe("spBv1.0/STATE/#", qos=1)
        self.client.on_message = lambda c, u, m: self.states.append(json.loads(m.payload))
        self.client.connect("127.0.0.1", mosquitto.port, keepalive=5)
        self.client.loop_start()

    def publish(self, channel: str, body) -> None:
        payload = body if isinstance(body, bytes) else json.dumps(body)
        info = self.client.publish(f"cmms/v1/gateways/{self.gateway.pk}/{channel}", payload, qos=1)
        info.wait_for_publish(timeout=10)
        assert info.is_published()

    def wait_for_state(self, *, online: bool, since_ms: int, consumer: ConsumerProcess):
        wait_until(
            lambda: any(s["online"] is online and s["timestamp"] >= since_ms for s in self.states),
            timeout=30,
            message=consumer.output,
        )

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def plant(mosquitto):
    site = SiteFactory()
    pump = AssetFactory(site=site, tag="P-101")
    meter = MeterFactory(asset=pump, code="hours")
    gateway, secret = gateway_with_secret(site=site)
    consumer_url = consumer_account(mosquitto)
    gateway_account(mosquitto, gateway, secret)
    client = GatewayClient(mosquitto, gateway, secret)
    yield {
        "site": site,
        "meter": meter,
        "gateway": gateway,
        "client": client,
        "consumer": ConsumerProcess(consumer_url),
    }
    client.close()


def started(consumer: ConsumerProcess, client: GatewayClient) -> ConsumerProcess:
    """Start the consumer and wait for its online STATE: it is then subscribed."""
    since = int(time.time() * 1000)
    consumer.start()
    client.wait_for_state(online=True, since_ms=since, consumer=consumer)
    return consumer


def alert(n: int, condition: str = "vibration.high", **fields) -> dict:
    return {
        "alert_id": f"vib-{n}",
        "asset": "P-101",
        "condition": condition,
        "severity": "major",
        "observed_at": timezone.now().isoformat(),
        "value": 9.5,
        **fields,
    }


def reading(n: int, start) -> dict:
    return {
        "reading_id": f"r-{n}",
        "asset": "P-101",
        "meter": "hours",
        "value": 100 + n,
        "observed_at": (start + timezone.timedelta(seconds=n)).isoformat(),
    }


def test_json_messages_are_stored_for_their_gateway_and_bad_ones_recorded_once(plant):
    client, gateway = plant["client"], plant["gateway"]
    consumer = started(plant["consumer"], client)
    try:
        client.publish("alerts", alert(1))
        client.publish(
            "readings", {"readings": [reading(1, timezone.now() - timezone.timedelta(hours=1))]}
        )
        client.publish("heartbeat", {"firmware": "3.0.1", "sensors": [{"id": "vib-1"}]})
        client.publish("alerts", alert(2, severity="loud"))
        client.publish("events", b"{}")
        wait_until(
            lambda: RejectedMessage.objects.count() == 2, timeout=20, message=consumer.output
        )
        wait_until(
            lambda: Gateway.objects.get(pk=gateway.pk).firmware == "3.0.1",
            timeout=20,
            message=consumer.output,
        )

        stored = Alert.objects.get()
        assert (stored.alert_id, stored.gateway_id, stored.site_id) == (
            "vib-1",
            gateway.pk,
            plant["site"].pk,
        )
        assert GatewayReading.objects.get(gateway=gateway).meter_reading.meter == plant["meter"]
        assert Gateway.objects.get(pk=gateway.pk).last_seen_at is not None
        reasons = dict(RejectedMessage.objects.values_list("topic", "reason"))
        assert reasons[f"cmms/v1/gateways/{gateway.pk}/alerts"] == (
            "item 0 severity: Must be one of critical, major, minor, warning."
        )
        assert reasons[f"cmms/v1/gateways/{gateway.pk}/events"].startswith("Unknown topic")
        assert set(RejectedMessage.objects.values_list("site", flat=True)) == {plant["site"].pk}
        assert "Rejected a message on" in consumer.output()

        birth = max(s["timestamp"] for s in client.states if s["online"])
        assert consumer.stop() == 0
        client.wait_for_state(online=False, since_ms=birth, consumer=consumer)

        # The rejected messages were acknowledged: a new session of the consumer gets only
        # what was published since.
        started(consumer, client)
        client.publish("alerts", alert(3))
        wait_until(lambda: Alert.objects.count() == 2, timeout=20, message=consumer.output)
        assert RejectedMessage.objects.count() == 2
    finally:
        consumer.kill()


def test_nothing_is_lost_or_doubled_when_the_consumer_is_killed_and_the_broker_restarted(
    mosquitto, plant
):
    AlertRule.objects.create(name="any", site=plant["site"], condition_pattern="*")
    client = plant["client"]
    start = timezone.now() - timezone.timedelta(hours=1)
    # 200 alerts on 10 correlation keys (10 work orders, 20 alerts each) and 50 readings.
    messages = [
        ("readings", {"readings": [reading(n, start)]})
        if n % 5 == 4
        else ("alerts", alert(n, condition=f"vibration.c{n // 5 % 10}"))
        for n in range(250)
    ]
    alerts_sent = sum(1 for channel, _ in messages if channel == "alerts")

    consumer = started(plant["consumer"], client)
    try:
        for channel, body in messages[:125]:
            client.publish(channel, body)
        wait_until(lambda: Alert.objects.count() >= 40, timeout=30, message=consumer.output)
        birth = max(s["timestamp"] for s in client.states if s["online"])
        consumer.kill()
        # No DISCONNECT: the broker publishes the consumer's will, the host's offline STATE.
        client.wait_for_state(online=False, since_ms=birth, consumer=consumer)
        # Published while no consumer runs: queued in its persistent session.
        for channel, body in messages[125:]:
            client.publish(channel, body)
        consumer.start()
        wait_until(lambda: Alert.objects.count() >= 150, timeout=30, message=consumer.output)
        mosquitto.restart()
        wait_until(
            lambda: Alert.objects.count() == alerts_sent and GatewayReading.objects.count() == 50,
            timeout=40,
            message=consumer.output,
        )
        assert "Connected to" in consumer.output().split("Lost the broker")[-1]
    finally:
        consumer.kill()

    assert Alert.objects.values("alert_id").distinct().count() == alerts_sent
    assert MeterReading.objects.filter(meter=plant["meter"]).count() == 50
    assert not RejectedMessage.objects.exists()
    # An alert whose processing the SIGKILL cut short is still `received`: the sweeper's.
    alerts_sweep(now=timezone.now() + timezone.timedelta(hours=1))
    assert set(Alert.objects.values_list("status", flat=True)) == {AlertStatus.PROCESSED}
    work = WorkOrder.objects.all()
    assert work.count() == 10
    assert sorted(work.values_list("alert_count", flat=True)) == [20] * 10


def _connections(allowed: bool) -> None:
    """Let nobody new connect to the test database and drop who is connected but this test, or
    undo it (from the server's `postgres` database: a database cannot close itself)."""
    name = connection.settings_dict["NAME"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        mine = cursor.fetchone()[0]
    admin_url = workers.test_database_url().rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        quoted = connection.ops.quote_name(name)
        admin.execute(f"ALTER DATABASE {quoted} ALLOW_CONNECTIONS {str(allowed).lower()}")
        if not allowed:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> %s",
                [name, mine],
            )


def test_the_database_gone_stops_the_consumer_and_the_broker_redelivers_the_message(plant):
    client, consumer = plant["client"], plant["consumer"]
    started(consumer, client)
    try:
        client.publish("alerts", alert(1))
        wait_until(lambda: Alert.objects.count() == 1, timeout=20, message=consumer.output)
        _connections(allowed=False)
        try:
            client.publish("alerts", alert(2))
            wait_until(lambda: consumer.process.poll() is not None, timeout=20)
            assert consumer.process.returncode == EXIT_DATABASE
            assert "database unavailable" in consumer.output()
        finally:
            _connections(allowed=True)
        assert Alert.objects.count() == 1

        started(consumer, client)
        wait_until(lambda: Alert.objects.count() == 2, timeout=20, message=consumer.output)
        assert not RejectedMessage.objects.exists()
    finally:
        consumer.kill()
