"""`manage.py simulate_gateway --transport mqtt`: the simulated gateway publishes the webhooks'
bodies with QoS 1 as its own broker client, and the real consumer (`manage.py mqtt_consume`)
stores them: heartbeat, readings and a storm's alerts, as over HTTP."""

import io
import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from alerts.models import Alert
from assets.models import MeterReading
from gateways.models import Gateway
from mqtt.models import RejectedMessage
from tests.factories import AssetFactory, MeterFactory, SiteFactory, gateway_with_secret
from tests.mqtt.test_consumer_process import (
    ConsumerProcess,
    GatewayClient,
    consumer_account,
    gateway_account,
    started,
)
from tests.workers import ROOT, wait_until

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("real_clock"),
]


def test_the_simulator_publishes_over_mqtt_and_the_consumer_stores_it(mosquitto, tmp_path):
    site = SiteFactory()
    pump = AssetFactory(site=site, tag="P-101")
    meter = MeterFactory(asset=pump, code="hours")
    gateway, secret = gateway_with_secret(site=site)
    consumer = ConsumerProcess(consumer_account(mosquitto))
    gateway_account(mosquitto, gateway, secret)
    watcher = GatewayClient(mosquitto, gateway, secret)
    started(consumer, watcher)
    watcher.close()
    log = tmp_path / "simulator.log"
    try:
        with log.open("w") as output:
            simulator = subprocess.run(
                [
                    sys.executable,
                    "manage.py",
                    "simulate_gateway",
                    "--transport=mqtt",
                    f"--broker=mqtt://127.0.0.1:{mosquitto.port}",
                    f"--gateway={gateway.pk}",
                    "--sensors=vib-01=P-101:hours",
                    "--scenario=storm",
                    "--count=2",
                    "--interval=0.1",
                ],
                cwd=ROOT,
                env={**os.environ, "GATEWAY_SECRET": secret},
                stdout=output,
                stderr=subprocess.STDOUT,
                timeout=60,
            )
        text = log.read_text()
        assert simulator.returncode == 0, text
        assert " heartbeat acknowledged " in text and " alerts acknowledged " in text
        assert secret not in text
        wait_until(
            lambda: (
                Alert.objects.filter(gateway=gateway).count() == 1
                and MeterReading.objects.filter(meter=meter).exists()
            ),
            timeout=30,
            message=lambda: (
                f"alerts {Alert.objects.filter(gateway=gateway).count()}, readings "
                f"{MeterReading.objects.filter(meter=meter).count()}, rejected "
                f"{list(RejectedMessage.objects.values_list('reason', flat=True))}\n"
                + text
                + consumer.output()
            ),
        )
        gateway.refresh_from_db()
        assert gateway.last_heartbeat_at is not None
        assert gateway.firmware == "2.4.1"
        assert not RejectedMessage.objects.exists()
    finally:
        consumer.kill()


def test_a_gateway_the_broker_refuses_stops_the_simulator_with_the_reason(mosquitto):
    site = SiteFactory()
    AssetFactory(site=site, tag="P-101")
    gateway, secret = gateway_with_secret(site=site)  # no broker client: refused
    os.environ["GATEWAY_SECRET"] = secret
    try:
        with pytest.raises(CommandError, match="refused the gateway") as refused:
            call_command(
                "simulate_gateway",
                "--transport=mqtt",
                f"--broker=mqtt://127.0.0.1:{mosquitto.port}",
                f"--gateway={gateway.pk}",
                "--sensors=vib-01=P-101",
                "--count=1",
                stdout=io.StringIO(),
            )
    finally:
        del os.environ["GATEWAY_SECRET"]
    assert secret not in str(refused.value)
    assert Gateway.objects.get(pk=gateway.pk).last_heartbeat_at is None


@pytest.mark.parametrize(
    "broker", ["mqtt://cmms-admin:s3cr#t@broker:8883", "http://cmms-admin:s3cret@broker"]
)
def test_a_bad_broker_address_is_refused_without_repeating_it(broker):
    gateway, secret = gateway_with_secret(site=SiteFactory())
    with pytest.raises(CommandError) as refused:
        call_command(
            "simulate_gateway",
            "--transport=mqtt",
            f"--broker={broker}",
            f"--gateway={gateway.pk}",
            f"--secret={secret}",
            "--sensors=vib-01=P-101",
            "--count=1",
            stdout=io.StringIO(),
        )
    assert "broker address" in str(refused.value)
    assert "s3cr" not in str(refused.value)
