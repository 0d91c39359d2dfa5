"""The gateway simulator as a Sparkplug B edge node (`simulate_gateway --transport sparkplug`).

The same plan as over HTTP (`fleet.simulator.Plan`: scenarios, values, batteries), published
with pysparkplug's EdgeNode through the broker instead of signed webhooks. It connects as the
gateway's broker client (username: the gateway id, password: its secret), births the node and
one device per sensor (the sensor's code is the device id), and each tick publishes:

- NDATA `Properties/Battery`, `Properties/Signal`, `Properties/Uptime`: the heartbeat's figures;
- DDATA per sensor: its measured value as the metric named like what it measures
  (`vibration`, `temperature`) and, when it has a meter, the running hours as `Hours`.

Alerts are not sent: in Sparkplug the host raises them from threshold rules on the values
(docs/sparkplug.md). The silent scenario publishes nothing (the connection stays up, so the
fleet check sees the gateway go late and offline); the end of a run disconnects with an NDEATH.
"""

import itertools
import threading
import time
from collections.abc import Callable
from datetime import datetime

from django.utils import timezone
from pysparkplug import (
    Client,
    DataType,
    DBirth,
    Device,
    EdgeNode,
    Message,
    MessageType,
    Metric,
    NBirth,
    NDeath,
    QoS,
    TLSConfig,
    Topic,
    get_current_timestamp,
)

from fleet.simulator import Plan, Request, Response, Simulator, _iso, plan_for
from fleet.simulator_mqtt import broker_address

CONNECT_TIMEOUT_SECONDS = 10.0
SEQ_LIMIT = 256  # bdSeq runs 0..255
REBIRTH = "Node Control/Rebirth"


def _metric(name: str, value: float, alias: int) -> Metric:
    return Metric(get_current_timestamp(), name, DataType.DOUBLE, value=float(value), alias=alias)


class SparkplugSender:
    """Publishes the plan's state for each heartbeat request; `send` has the HTTP Sender's
    shape, so `fleet.simulator.Simulator` runs it unchanged. `sent` counts messages."""

    def __init__(
        self,
        *,
        plan: Plan,
        broker: str,
        gateway_id: str,
        secret: str,
        group_id: str,
        edge_node_id: str,
        log: Callable[[str], None],
        clock: Callable[[], datetime],
    ):
        self.host, self.port, tls = broker_address(broker)
        if not group_id or not edge_node_id:
            raise ValueError("The gateway has no Sparkplug group and edge node id.")
        self.plan, self.log, self.clock = plan, log, clock
        client = Client(
            client_id=f"cmms-simulator-{gateway_id}",
            username=gateway_id,
            password=secret,
            transport_config=TLSConfig() if tls else None,
        )
        self.aliases = _Aliases()
        # Commands arrive on paho's thread, the ticks on the main one: one publisher at a time.
        self.lock = threading.Lock()
        self.node = EdgeNode(
            group_id, edge_node_id, self._node_metrics(), client=client, cmd_callback=self._command
        )
        for sensor in plan.sensors:
            self.node.register(Device(sensor.code, self._device_metrics(sensor)))
        self.sent = 0
        self.connected = False

    def connect(self) -> None:
        self.node.connect(self.host, port=self.port, keepalive=30, blocking=False)
        deadline = time.monotonic() + CONNECT_TIMEOUT_SECONDS
        while not self.node._connected:  # pysparkplug sets it once CONNACK came and it birthed
            if time.monotonic() > deadline:
                raise OSError(f"No connection to the broker at {self.host}:{self.port}.")
            time.sleep(0.02)
        self.connected = True
        self.sent += 1 + len(self.plan.sensors)
        self.log(
            f"{_iso(self.clock())} NBIRTH and {len(self.plan.sensors)} DBIRTH to "
            f"{self.host}:{self.port}"
        )

    def disconnect(self) -> None:
        """An NDEATH with the bdSeq of the current birth, then a clean disconnection.

        Not `EdgeNode.disconnect()`: pysparkplug 0.6.1 has already moved its bdSeq on to the
        next connection's when it births, so its NDEATH names the next session, and a host
        that checks bdSeq (as ours does, per Sparkplug 3.0) rightly ignores it."""
        if not self.connected:
            return
        now = get_current_timestamp()
        death = NDeath(timestamp=now, bd_seq_metric=self._birth_bd_seq(now))
        self._publish(self._topic(MessageType.NDEATH), death)
        self.node._client.disconnect()
        self.connected = False
        self.sent += 1
        self.log(f"{_iso(self.clock())} NDEATH (disconnected)")

    def _birth_bd_seq(self, timestamp: int) -> Metric:
        """The bdSeq of the current birth: pysparkplug 0.6.1 has moved on to the next
        connection's once it has birthed."""
        value = (self.node._bd_seq_metric.value - 1) % SEQ_LIMIT
        return Metric(timestamp, "bdSeq", DataType.INT64, value=value)

    def _command(self, node: EdgeNode, message: Message) -> None:
        """A host's NCMD: `Node Control/Rebirth` = true is answered with the births again
        (pysparkplug 0.6.1's EdgeNode only logs it), with the current birth's bdSeq."""
        if any(m.name == REBIRTH and m.value is True for m in message.payload.metrics):
            with self.lock:
                self._rebirth()
            self.log(
                f"{_iso(self.clock())} rebirth requested: NBIRTH and "
                f"{len(self.plan.sensors)} DBIRTH again"
            )

    def _rebirth(self) -> None:
        node = self.node
        node._EdgeNode__seq_cycler = itertools.cycle(range(SEQ_LIMIT))  # a birth restarts at 0
        now = get_current_timestamp()
        birth = NBirth(
            timestamp=now, seq=node._seq, metrics=(*node.metrics.values(), self._birth_bd_seq(now))
        )
        self._publish(self._topic(MessageType.NBIRTH), birth)
        for device in node.devices.values():
            birth = DBirth(
                timestamp=get_current_timestamp(),
                seq=node._seq,
                metrics=tuple(device.metrics.values()),
            )
            self._publish(self._topic(MessageType.DBIRTH, device.device_id), birth)
        self.sent += 1 + len(node.devices)

    def _topic(self, kind: MessageType, device_id: str | None = None) -> Topic:
        node = self.node
        return Topic(
            message_type=kind,
            group_id=node.group_id,
            edge_node_id=node.edge_node_id,
            device_id=device_id,
        )

    def _publish(self, topic: Topic, payload) -> None:
        message = Message(topic=topic, payload=payload, qos=QoS.AT_MOST_ONCE, retain=False)
        self.node._client.publish(message, include_dtypes=True)

    def send(self, request: Request) -> Response:
        if not self.connected:
            self.connect()
        if request.kind == "heartbeat":
            self._publish_tick()
        return Response(202, {}, b"")

    def _publish_tick(self) -> None:
        state = self.plan.state
        with self.lock:
            self.node.update(self._node_metrics())
            self.sent += 1
            for sensor in self.plan.sensors:
                self.node.update_device(sensor.code, self._device_metrics(sensor))
                self.sent += 1
        values = ", ".join(f"{s.code}={state.values[s.code]:.2f}" for s in self.plan.sensors)
        self.log(f"{_iso(self.clock())} NDATA, DDATA {values or '(no sensors)'}")

    def _metric(self, name: str, value: float) -> Metric:
        return _metric(name, value, self.aliases[name])

    def _node_metrics(self) -> list[Metric]:
        state = self.plan.state
        return [
            self._metric("Properties/Battery", round(state.gateway.battery)),
            self._metric("Properties/Signal", state.gateway.signal),
            self._metric("Properties/Uptime", state.uptime_seconds),
        ]

    def _device_metrics(self, sensor) -> list[Metric]:
        state = self.plan.state
        metrics = [self._metric(sensor.measures, state.values[sensor.code])]
        if sensor.meter:
            metrics.append(self._metric("Hours", round(state.hours[sensor.code], 3)))
        return metrics


class _Aliases(dict):
    """A stable alias per metric name (births declare them; data carries them too)."""

    def __missing__(self, key):
        self[key] = len(self) + 1
        return self[key]


def sparkplug_simulator_for(
    *,
    broker: str,
    gateway_id: str,
    secret: str,
    group_id: str,
    edge_node_id: str,
    sensors: list,
    scenario: str,
    interval: float,
    log: Callable[[str], None],
    seed: int = 0,
    firmware: str = "2.4.1",
    degrade: str = "",
) -> tuple[Simulator, SparkplugSender]:
    """A simulator publishing Sparkplug B on the real clock, and its sender (disconnect it at
    the end: NDEATH); ValueError for a bad plan, broker address or interval."""
    plan = plan_for(
        sensors=sensors,
        scenario=scenario,
        interval=interval,
        seed=seed,
        firmware=firmware,
        degrade=degrade,
    )
    sender = SparkplugSender(
        plan=plan,
        broker=broker,
        gateway_id=gateway_id,
        secret=secret,
        group_id=group_id,
        edge_node_id=edge_node_id,
        log=log,
        clock=timezone.now,
    )
    simulator = Simulator(plan=plan, sender=sender, log=log, clock=timezone.now, sleep=time.sleep)
    return simulator, sender
