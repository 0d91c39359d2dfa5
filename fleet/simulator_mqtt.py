"""The gateway simulator over MQTT with the webhooks' JSON bodies (`simulate_gateway
--transport mqtt`).

The same plan and the same bodies as over HTTP (`fleet.simulator.Plan`), published with QoS 1
on `cmms/v1/gateways/{id}/heartbeat|readings|alerts` instead of POSTed and signed: the broker
authenticates the gateway (username its id, password its secret) and lets it publish only under
its own topics; `manage.py mqtt_consume` stores the messages (docs/mqtt.md). A publish is done
when the broker acknowledges it (PUBACK). MQTT 3.1.1 has no way to say "refused" on a publish:
a message on a topic the gateway may not use is acknowledged and dropped by the broker, and a
body the consumer cannot accept is recorded under MQTT -> Rejected messages.
"""

import json
import ssl
import threading
import time
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlsplit

import paho.mqtt.client as paho
from django.utils import timezone

from fleet.simulator import Request, Simulator, _iso, plan_for

CONNECT_TIMEOUT_SECONDS = 10.0
PUBLISH_TIMEOUT_SECONDS = 10.0
TOPIC = "cmms/v1/gateways/{gateway_id}/{kind}"


def broker_address(broker: str) -> tuple[str, int, bool]:
    """(host, port, TLS) of an mqtt:// or mqtts:// address; ValueError otherwise, never
    repeating the address (it may hold credentials, e.g. MQTT_URL's)."""
    parts = urlsplit(broker)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ValueError("The broker address must read mqtt[s]://host:port.")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("The broker address has an invalid port.") from None
    tls = parts.scheme == "mqtts"
    return parts.hostname, port or (8883 if tls else 1883), tls


class MqttSender:
    """Publishes each request's JSON body with QoS 1 as the gateway; `send` has the HTTP
    Sender's shape, so `fleet.simulator.Simulator` runs it unchanged. `sent` counts messages."""

    def __init__(
        self,
        *,
        broker: str,
        gateway_id: str,
        secret: str,
        log: Callable[[str], None],
        clock: Callable[[], datetime],
    ):
        self.host, self.port, tls = broker_address(broker)
        self.gateway_id, self.log, self.clock = gateway_id, log, clock
        self.client = paho.Client(client_id=f"cmms-simulator-{gateway_id}", clean_session=True)
        self.client.username_pw_set(gateway_id, secret)
        if tls:
            self.client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
        self.client.on_connect = self._on_connect
        self._connack = threading.Event()
        self._refused: int | None = None
        self.sent = 0
        self.connected = False

    def _on_connect(self, client, userdata, flags, rc) -> None:
        self._refused = rc or None
        self._connack.set()

    def connect(self) -> None:
        """Connect as the gateway; OSError when the broker is unreachable or refuses it."""
        self.client.connect(self.host, self.port, keepalive=30)
        self.client.loop_start()
        if not self._connack.wait(CONNECT_TIMEOUT_SECONDS):
            self.client.loop_stop()
            raise OSError(f"No answer from the broker at {self.host}:{self.port}.")
        if self._refused is not None:
            self.client.loop_stop()
            raise OSError(
                f"The broker refused the gateway: {paho.connack_string(self._refused)} "
                "(check the gateway id and secret, and that the gateway is active)."
            )
        self.connected = True
        self.log(f"{_iso(self.clock())} connected to {self.host}:{self.port}")

    def disconnect(self) -> None:
        if self.connected:
            self.client.disconnect()
            self.client.loop_stop()
            self.connected = False

    def send(self, request: Request) -> None:
        if not self.connected:
            self.connect()
        topic = TOPIC.format(gateway_id=self.gateway_id, kind=request.kind)
        body = json.dumps(request.body, separators=(",", ":")).encode()
        info = self.client.publish(topic, body, qos=1, retain=False)
        started = time.monotonic()
        info.wait_for_publish(timeout=PUBLISH_TIMEOUT_SECONDS)
        if not info.is_published():
            raise OSError(
                f"The broker did not acknowledge {request.kind} within "
                f"{time.monotonic() - started:.0f} s."
            )
        self.sent += 1
        self.log(f"{_iso(self.clock())} {request.kind} acknowledged {request.describe()}")


def mqtt_simulator_for(
    *,
    broker: str,
    gateway_id: str,
    secret: str,
    sensors: list,
    scenario: str,
    interval: float,
    log: Callable[[str], None],
    seed: int = 0,
    firmware: str = "2.4.1",
    degrade: str = "",
) -> tuple[Simulator, MqttSender]:
    """A simulator publishing the webhooks' bodies over MQTT on the real clock, and its sender
    (disconnect it at the end); ValueError for a bad plan, broker address or interval."""
    plan = plan_for(
        sensors=sensors,
        scenario=scenario,
        interval=interval,
        seed=seed,
        firmware=firmware,
        degrade=degrade,
    )
    sender = MqttSender(
        broker=broker, gateway_id=gateway_id, secret=secret, log=log, clock=timezone.now
    )
    simulator = Simulator(plan=plan, sender=sender, log=log, clock=timezone.now, sleep=time.sleep)
    return simulator, sender
