"""`manage.py simulate_gateway --transport sparkplug`: the simulated gateway as a pysparkplug
edge node, through a private Mosquitto as its own broker client, to the host (a subscriber in
the test calling `handle_message`): born, its devices born, heard each tick (mapped running
hours stored as readings), and offline after its NDEATH at the end of the run."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from assets.models import MeterReading
from gateways.choices import Connectivity, SensorState
from gateways.models import Gateway, Sensor
from sparkplug.choices import MetricTarget
from sparkplug.models import MetricMapping
from tests.factories import GatewayFactory, MeterFactory
from tests.mqtt.sparkplug_broker import Host, broker_client_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.django_db
def test_the_simulator_publishes_a_sparkplug_node_the_host_follows(
    mosquitto, real_clock, site, pump, tmp_path
):
    gateway = GatewayFactory(site=site)
    secret = gateway.plaintext_secret
    Gateway.objects.filter(pk=gateway.pk).update(
        sparkplug_group_id="plant", sparkplug_edge_node_id="sim1"
    )
    gateway.refresh_from_db()
    gateway.plaintext_secret = secret
    sensor = Sensor.objects.create(gateway=gateway, code="vib-01", asset=pump)
    meter = MeterFactory(asset=pump, code="hours")
    MetricMapping.objects.create(
        gateway=gateway, sensor=sensor, metric="Hours", target=MetricTarget.METER, meter=meter
    )
    broker_client_for(mosquitto, gateway)
    log = tmp_path / "simulator.log"
    host = Host(mosquitto.port, log)
    with log.open("w") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "simulate_gateway",
                "--transport=sparkplug",
                f"--broker=mqtt://127.0.0.1:{mosquitto.port}",
                f"--gateway={gateway.pk}",
                "--sparkplug-node=plant/sim1",
                f"--sensors=vib-01={pump.tag}:hours",
                "--count=3",
                "--interval=0.2",
            ],
            cwd=ROOT,
            env={**os.environ, "GATEWAY_SECRET": secret},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        host.until(
            lambda: Gateway.objects.filter(pk=gateway.pk, connectivity="online").exists(), "birth"
        )
        # The birth's hours (0) and three ticks' worth.
        host.until(lambda: MeterReading.objects.filter(meter=meter).count() == 4, "readings")
        host.until(
            lambda: Gateway.objects.filter(pk=gateway.pk, connectivity="offline").exists(),
            "NDEATH at the end of the run",
        )
        assert process.wait(timeout=10) == 0, log.read_text()
    finally:
        process.kill()
        process.wait(timeout=10)
    sensor.refresh_from_db()
    assert sensor.state == SensorState.STALE  # the node's death took its device with it
    assert host.rejections == []
    assert "NDEATH (disconnected)" in log.read_text()
    assert Gateway.objects.get(pk=gateway.pk).connectivity == Connectivity.OFFLINE


@pytest.mark.django_db
def test_the_sparkplug_transport_needs_the_gateways_identity(site):
    gateway = GatewayFactory(site=site)
    with pytest.raises(CommandError, match="no Sparkplug group and edge node id"):
        call_command(
            "simulate_gateway",
            "--transport=sparkplug",
            "--broker=mqtt://127.0.0.1:1",
            f"--gateway={gateway.pk}",
            f"--secret={gateway.plaintext_secret}",
            "--sensors=vib-01=P-101",
            "--count=1",
        )
