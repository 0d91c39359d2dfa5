"""A real pysparkplug edge node process, through a real private Mosquitto, to the host: birth,
data (meter readings; a temperature hovering at its threshold), death by SIGKILL (the broker
publishes its will), rebirth. The host side is a small paho subscriber in the test that calls
`sparkplug.host.handle_message` per message in a transaction, as the consumer does."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from alerts.models import Alert
from assets.models import MeterReading
from gateways.choices import Connectivity
from gateways.models import Gateway, Sensor
from sparkplug.choices import Direction, MetricTarget
from sparkplug.models import EdgeNodeSession, MetricMapping, SequenceGap
from tests.factories import GatewayFactory, MeterFactory
from tests.mqtt.sparkplug_broker import Host, broker_client_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db]
ROOT = Path(__file__).resolve().parents[2]


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
