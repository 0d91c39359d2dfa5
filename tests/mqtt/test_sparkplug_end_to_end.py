"""A real pysparkplug edge node process, through a real private Mosquitto, to the host: birth,
data (meter readings; a temperature hovering at its threshold), death by SIGKILL (the broker
publishes its will), rebirth. The host side is a small paho subscriber in the test that calls
`sparkplug.host.handle_message` per message in a transaction, as the consumer does."""

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from django.db import transaction
from django.utils import timezone

from alerts.models import Alert
from assets.models import MeterReading
from gateways.choices import Connectivity
from gateways.messages import MessageRejected
from gateways.models import Gateway, Sensor
from sparkplug.choices import Direction, MetricTarget
from sparkplug.host import handle_message
from sparkplug.models import EdgeNodeSession, MetricMapping, SequenceGap
from tests.factories import GatewayFactory, MeterFactory
from tests.mosquitto import ADMIN_PASSWORD, ADMIN_USERNAME
from tests.workers import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db]
ROOT = Path(__file__).resolve().parents[2]


class Host:
    """The host's side: subscribed to spBv1.0/# with QoS 1, each message handled in its own
    transaction in the test's thread (driven by `pump`), rejections kept."""

    def __init__(self, port: int, log: Path):
        self.rejections, self.log = [], log
        self.client = mqtt.Client(client_id="test-host", clean_session=True)
        self.client.username_pw_set(ADMIN_USERNAME, ADMIN_PASSWORD)
        self.client.on_message = self.on_message
        self.client.connect("127.0.0.1", port, keepalive=5)
        self.client.subscribe("spBv1.0/#", qos=1)
        self.pump(0.3)

    def on_message(self, _client, _userdata, message):
        if message.topic.startswith("spBv1.0/STATE/"):
            return
        try:
            with transaction.atomic():
                handle_message(topic=message.topic, payload=message.payload, now=timezone.now())
        except MessageRejected as exc:
            self.rejections.append((message.topic, exc.reason))

    def pump(self, seconds: float = 0.05):
        self.client.loop(timeout=seconds)

    def until(self, predicate, what: str, timeout: float = 15):
        def pumped():
            self.pump()
            return predicate()

        def details():
            log = self.log.read_text() if self.log.exists() else ""
            return f"{what}; rejections {self.rejections}; edge node output: {log}"

        return wait_until(pumped, timeout=timeout, interval=0.01, message=details)


def broker_client_for(mosquitto, gateway) -> tuple[str, str]:
    """The gateway's broker client as the access contract defines it (username: the gateway
    id, password: its secret; may publish only under its Sparkplug identity), created with
    mosquitto_ctrl; returns (username, password)."""
    username, password = str(gateway.pk), gateway.plaintext_secret
    group, node = gateway.sparkplug_group_id, gateway.sparkplug_edge_node_id
    role = f"gateway-{gateway.pk}"
    commands = [
        ["createClient", username, "-p", password],
        ["createRole", role],
        ["addRoleACL", role, "publishClientSend", f"spBv1.0/{group}/+/{node}", "allow"],
        ["addRoleACL", role, "publishClientSend", f"spBv1.0/{group}/+/{node}/#", "allow"],
        ["addRoleACL", role, "subscribePattern", f"spBv1.0/{group}/NCMD/{node}", "allow"],
        ["addRoleACL", role, "subscribePattern", f"spBv1.0/{group}/DCMD/{node}/#", "allow"],
        ["addRoleACL", role, "subscribePattern", "spBv1.0/STATE/#", "allow"],
        ["addClientRole", username, role],
    ]
    ctrl = shutil.which("mosquitto_ctrl") or "mosquitto_ctrl"
    login = ["-h", "127.0.0.1", "-p", str(mosquitto.port), "-u", ADMIN_USERNAME]
    for command in commands:
        subprocess.run(
            [ctrl, *login, "-P", ADMIN_PASSWORD, "dynsec", *command],
            check=True,
            capture_output=True,
            timeout=30,
        )
    return username, password


def edge_node(
    port: int, log: Path, credentials: tuple[str, str], *, bdseq: int, hours: str, temps: str
) -> subprocess.Popen:
    with log.open("a") as output:  # the child keeps its own descriptor
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.mqtt.sparkplug_edge",
                f"--port={port}",
                f"--username={credentials[0]}",
                f"--password={credentials[1]}",
                f"--bdseq={bdseq}",
                f"--hours={hours}",
                f"--temps={temps}",
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def connectivity(gateway) -> str:
    return Gateway.objects.values_list("connectivity", flat=True).get(pk=gateway.pk)


def test_an_edge_node_is_born_sends_data_dies_and_is_born_again(
    mosquitto, real_clock, site, pump, tmp_path
):
    gateway = GatewayFactory(site=site)
    secret = gateway.plaintext_secret
    Gateway.objects.filter(pk=gateway.pk).update(
        sparkplug_group_id="plant", sparkplug_edge_node_id="line1"
    )
    gateway.refresh_from_db()
    gateway.plaintext_secret = secret
    credentials = broker_client_for(mosquitto, gateway)
    sensor = Sensor.objects.create(gateway=gateway, code="temp1", unit="C", asset=pump)
    meter = MeterFactory(asset=pump, code="hours")
    MetricMapping.objects.create(
        gateway=gateway, metric="Motor/Hours", target=MetricTarget.METER, meter=meter
    )
    MetricMapping.objects.create(
        gateway=gateway,
        sensor=sensor,
        metric="Temperature",
        target=MetricTarget.THRESHOLD,
        asset=pump,
        condition="temp_high",
        severity="major",
        direction=Direction.ABOVE,
        threshold=80.0,
        clear_threshold=70.0,
    )
    log = tmp_path / "edge.log"
    host = Host(mosquitto.port, log)
    first = edge_node(
        mosquitto.port,
        log,
        credentials,
        bdseq=0,
        hours="100,101,102",
        temps="60,79,80.5,79.5,81,80,80.2",
    )
    try:
        host.until(lambda: MeterReading.objects.filter(meter=meter).count() == 3, "readings")
        host.until(
            lambda: MetricMapping.objects.filter(last_value=80.2).exists(), "all temperatures"
        )
        assert connectivity(gateway) == Connectivity.ONLINE
        assert Alert.objects.filter(gateway=gateway, state="active").count() == 1

        first.send_signal(signal.SIGKILL)  # the broker publishes its will: NDEATH, bdSeq 0
        first.wait(timeout=10)
        host.until(lambda: connectivity(gateway) == Connectivity.OFFLINE, "offline on NDEATH")

        second = edge_node(
            mosquitto.port, log, credentials, bdseq=1, hours="103,104", temps="81,82"
        )
        try:
            host.until(
                lambda: MeterReading.objects.filter(meter=meter).count() == 5, "readings again"
            )
            host.until(lambda: MetricMapping.objects.filter(last_value=82).exists(), "temperature")
            assert connectivity(gateway) == Connectivity.ONLINE
            session = EdgeNodeSession.objects.get(gateway=gateway)
            assert (session.online, session.bd_seq) == (True, 1)
        finally:
            second.kill()
            second.wait(timeout=10)
    finally:
        first.kill()
    # Still raised from the first session (never back under 70): no second alert.
    assert Alert.objects.filter(gateway=gateway, state="active").count() == 1
    assert sorted(MeterReading.objects.filter(meter=meter).values_list("value", flat=True)) == [
        100,
        101,
        102,
        103,
        104,
    ]
    assert not SequenceGap.objects.exists()
    assert host.rejections == []
    host.client.disconnect()
