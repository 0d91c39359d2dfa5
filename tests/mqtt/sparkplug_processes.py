"""The Sparkplug end-to-end tests' world: a plant whose gateway is a Sparkplug edge node with
its broker client, and the processes: the host (the real `manage.py mqtt_consume`), edge nodes
(tests/mqtt/sparkplug_edge.py, a pysparkplug EdgeNode) and a watcher that reads what the host
publishes (its retained STATE, its commands) as the broker hands it out."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import paho.mqtt.client as paho
from django.conf import settings
from pysparkplug import NCmd

from assets.models import MeterReading
from gateways import services as gateway_services
from gateways.models import Gateway, Sensor
from mqtt import access
from pipeline.models import AlertRule
from sparkplug.choices import Direction, MetricTarget
from sparkplug.host import rebirth_message
from sparkplug.models import EdgeNodeSession, MetricMapping
from tests import workers
from tests.factories import AssetFactory, MeterFactory, SiteFactory, gateway_with_secret
from tests.mosquitto import ADMIN_PASSWORD, ADMIN_USERNAME
from tests.workers import ROOT, wait_until

TIMEOUT = 15


def now_ms() -> int:
    return int(time.time() * 1000)


def readings(meter) -> list[float]:
    values = MeterReading.objects.filter(meter=meter).values_list("value", flat=True)
    return sorted(float(v) for v in values)


def sparkplug_plant() -> dict:
    """A gateway with a Sparkplug identity (group `plant`, edge node `line1`) and its broker
    client made by `mqtt.access.sync_gateway` (settings.MQTT_URL set by the caller), a
    temperature device `temp1` watching a pump, the node's `Motor/Hours` mapped to a meter, the
    device's `Temperature` to a threshold rule (80, cleared at 70), and an alert rule making
    work of every alert."""
    site = SiteFactory()
    pump = AssetFactory(site=site, tag="P-101")
    meter = MeterFactory(asset=pump, code="hours")
    gateway, secret = gateway_with_secret(site=site)
    gateway = gateway_services.gateway_update(
        gateway=gateway, sparkplug_group_id="plant", sparkplug_edge_node_id="line1"
    )
    access.sync_gateway(gateway.pk)  # as its commits already asked (idempotent): its client
    sensor = Sensor.objects.create(gateway=gateway, code="temp1", unit="C", asset=pump)
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
    AlertRule.objects.create(name="any", site=site, condition_pattern="*")
    return {
        "gateway": gateway,
        "credentials": (str(gateway.pk), secret),
        "sensor": sensor,
        "meter": meter,
        "pump": pump,
    }


class HostProcess:
    """`manage.py mqtt_consume` on the test database, in its own process group, as the system's
    broker account (in tests the admin, which may publish STATE and NCMD), Celery eager (no
    CELERY_BROKER_URL): an alert becomes its work order right after its message commits."""

    def __init__(self, mqtt_url: str, log: Path):
        self.log = log
        self.env = {
            **os.environ,
            "DATABASE_URL": workers.test_database_url(),
            "MQTT_URL": mqtt_url,
            "MQTT_CLIENT_ID": f"test-host-{uuid.uuid4().hex[:8]}",
            "SPARKPLUG_HOST_ID": settings.SPARKPLUG_HOST_ID,
            "LOG_LEVEL": "INFO",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        }
        self.env.pop("CELERY_BROKER_URL", None)
        self.process = None

    def start(self):
        with self.log.open("ab") as output:  # the child keeps its own descriptor
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "mqtt_consume", "--keepalive", "5"],
                cwd=ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def kill(self) -> None:
        """SIGKILL: no DISCONNECT, so the broker publishes the host's will."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=20)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


class EdgeNodeProcess:
    """`python -m tests.mqtt.sparkplug_edge`: told what to publish on its standard input."""

    def __init__(self, port: int, credentials: tuple[str, str], log: Path, **values):
        self.log = log
        arguments = [f"--port={port}", f"--username={credentials[0]}"]
        arguments += [f"--password={credentials[1]}"]
        arguments += [f"--{name}={value}" for name, value in values.items()]
        with log.open("a") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.mqtt.sparkplug_edge", *arguments],
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
                stdin=subprocess.PIPE,
                stdout=output,
                stderr=subprocess.STDOUT,
                text=True,
            )
        self.until(lambda out: "connected" in out, "the edge node connected")

    def send(self, line: str) -> None:
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        self.until(lambda out: f"published {line}" in out, f"the edge node published {line}")

    def until(self, seen, what: str) -> None:
        wait_until(
            lambda: seen(self.output()) or self.process.poll() is not None,
            timeout=TIMEOUT,
            interval=0.02,
            message=lambda: f"{what}: {self.output()}",
        )
        assert self.process.poll() is None, f"the edge node exited: {self.output()}"

    def kill(self) -> None:
        """SIGKILL: no DISCONNECT, so the broker publishes its will (the NDEATH)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process.stdin.close()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


class Watcher:
    """An admin subscriber to the hosts' STATE and the commands sent to edge nodes."""

    def __init__(self, port: int):
        self.port = port
        self.states: list[dict] = []
        self.commands: list[tuple[str, NCmd]] = []
        self.client = self._client(f"watcher-{uuid.uuid4().hex[:8]}")
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port, keepalive=5)
        self.client.subscribe([("spBv1.0/STATE/#", 1), ("spBv1.0/+/NCMD/#", 1)])
        self.client.loop_start()

    @staticmethod
    def _client(client_id: str) -> paho.Client:
        client = paho.Client(client_id=client_id, clean_session=True)
        client.username_pw_set(ADMIN_USERNAME, ADMIN_PASSWORD)
        return client

    def _on_message(self, _client, _userdata, message) -> None:
        if "/STATE/" in message.topic:
            self.states.append(json.loads(message.payload))
        else:
            self.commands.append((message.topic, NCmd.decode(message.payload)))

    def state(self, *, online: bool, since_ms: int, host: HostProcess) -> dict:
        """The first STATE saying `online` with a timestamp of `since_ms` or later."""
        return wait_until(
            lambda: next(
                (s for s in self.states if s["online"] is online and s["timestamp"] >= since_ms),
                None,
            ),
            timeout=TIMEOUT,
            interval=0.02,
            message=lambda: f"STATE online={online}; seen {self.states}; host: {host.output()}",
        )

    def retained_state(self) -> dict:
        """What the broker holds retained on the host's STATE topic, as a new subscriber (an
        edge node waiting for its primary host) gets it."""
        topic = f"spBv1.0/STATE/{settings.SPARKPLUG_HOST_ID}"
        retained = []
        client = self._client(f"retained-{uuid.uuid4().hex[:8]}")
        client.on_connect = lambda c, u, f, rc: c.subscribe(topic, qos=1)
        client.on_message = lambda c, u, m: retained.append(m)
        client.connect("127.0.0.1", self.port, keepalive=5)
        client.loop_start()
        try:
            (message,) = wait_until(lambda: retained, timeout=TIMEOUT, interval=0.01)
        finally:
            client.disconnect()
            client.loop_stop()
        assert message.retain, "the host's STATE is not retained"
        return json.loads(message.payload)

    def ask_rebirth(self, group_id: str, edge_node_id: str) -> None:
        """Publish the host's rebirth NCMD (`sparkplug.host.rebirth_message`) to a node, as an
        operator's host application might, and wait until the broker has it."""
        topic, payload = rebirth_message(group_id=group_id, edge_node_id=edge_node_id)
        info = self.client.publish(topic, payload, qos=1)
        info.wait_for_publish(timeout=TIMEOUT)
        assert info.is_published()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class Scene:
    """The processes of one test around a `sparkplug_plant`, with waits that show their logs."""

    def __init__(self, mosquitto, plant: dict, directory: Path):
        self.mosquitto, self.plant = mosquitto, plant
        self.gateway = plant["gateway"]
        self.watcher = Watcher(mosquitto.port)
        self.host = HostProcess(mosquitto.url, directory / "host.log")
        self.log = directory / "edge.log"
        self.nodes: list[EdgeNodeProcess] = []

    def node(self, *, bdseq: int, hours: float, temp: float) -> EdgeNodeProcess:
        """An edge node process of the plant's gateway, connected (its births published)."""
        node = EdgeNodeProcess(
            self.mosquitto.port,
            self.plant["credentials"],
            self.log,
            bdseq=bdseq,
            hours=hours,
            temp=temp,
        )
        self.nodes.append(node)
        return node

    def host_online(self) -> dict:
        """Start the host and return its online STATE (it is then subscribed)."""
        since = now_ms()
        self.host.start()
        return self.watcher.state(online=True, since_ms=since, host=self.host)

    def until(self, predicate, what: str):
        return wait_until(
            predicate,
            timeout=TIMEOUT,
            interval=0.05,
            message=lambda: f"{what}\nhost: {self.host.output()}\nedge nodes: {self.edges()}",
        )

    def edges(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def session(self) -> EdgeNodeSession | None:
        return EdgeNodeSession.objects.filter(gateway=self.gateway).first()

    def connectivity(self) -> str:
        return Gateway.objects.values_list("connectivity", flat=True).get(pk=self.gateway.pk)

    def close(self) -> None:
        self.host.kill()
        for node in self.nodes:
            node.kill()
        self.watcher.close()
