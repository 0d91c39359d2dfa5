"""`manage.py simulate_gateway --transport sparkplug` started before the host (the real
`manage.py mqtt_consume`): the host misses its births, rejects its data as data before birth
and asks it to rebirth."""

import os
import subprocess
import sys

import pytest

from mqtt.models import RejectedMessage
from tests.mqtt.sparkplug_processes import Scene, sparkplug_plant
from tests.workers import ROOT, wait_until

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("real_clock"),
]
SHORT = 3  # seconds: a node answers a rebirth request within milliseconds


@pytest.fixture
def plant(mosquitto, settings):
    settings.MQTT_URL = mosquitto.url
    return sparkplug_plant()


@pytest.fixture
def scene(mosquitto, plant, tmp_path):
    scene = Scene(mosquitto, plant, tmp_path)
    yield scene
    scene.close()


def test_a_simulator_started_before_the_host_is_born_again_when_asked(
    mosquitto, plant, scene, tmp_path
):
    log = tmp_path / "simulator.log"
    with log.open("w") as output:
        simulator = subprocess.Popen(
            [
                *(sys.executable, "manage.py", "simulate_gateway", "--transport=sparkplug"),
                f"--broker=mqtt://127.0.0.1:{mosquitto.port}",
                f"--gateway={plant['gateway'].pk}",
                "--sparkplug-node=plant/line1",
                f"--sensors={plant['sensor'].code}={plant['pump'].tag}",
                "--count=50",
                "--interval=0.2",
            ],
            cwd=ROOT,
            env={**os.environ, "GATEWAY_SECRET": plant["credentials"][1]},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(lambda: "NBIRTH" in log.read_text(), timeout=15, message=log.read_text)
        scene.host_online()
        scene.until(
            lambda: RejectedMessage.objects.exists() and scene.watcher.commands,
            "its data rejected as data before birth, and a rebirth asked",
        )
        assert "before the edge node's NBIRTH" in RejectedMessage.objects.first().reason
        wait_until(
            lambda: scene.session() is not None and scene.session().online,
            timeout=SHORT,
            message=lambda: f"not born again; simulator: {log.read_text()}",
        )
    finally:
        simulator.kill()
        simulator.wait(timeout=10)
