"""The Sparkplug B host application: what the consumer calls for each `spBv1.0/...` message.

`handle_message` runs inside the consumer's transaction, one message at a time. It attributes
the message to the gateway whose Sparkplug identity the topic names (the broker has already
authenticated the sender and its role lets it publish only under its own identity), locks that
gateway's `EdgeNodeSession` so one node's messages apply in order, and then:

- NBIRTH: a new session (bdSeq, sequence restarted, aliases); the gateway is alive (online,
  its silence work recovered). NDEATH: offline, with its devices, unless its bdSeq is not the
  current birth's (the will of an earlier session, delivered after the node was reborn).
- DBIRTH / DDEATH: the device's sensor live / stale (`fleet.presence`).
- NDATA / DDATA: heard from; the mapped metrics feed meters and threshold rules
  (`sparkplug.metrics`).
- Every message after a birth carries the next sequence number (0..255, wrapping); another one
  is recorded as a `SequenceGap` and the message is still applied. An exact redelivery (same
  sequence number and timestamp as the last message) changes nothing.
- A replay (a broker restored from its last autosave delivers acknowledged messages again): a
  message that is not the next one and is not newer than the last one heard, or a birth older
  than the current one. Its metrics still feed meter readings (stored once by their ids); it
  moves no sequence number, opens or ends no session and evaluates no threshold rule.

A message that can never be applied raises `MessageRejected` with the reason (malformed topic,
unknown node, a disabled gateway (except its NDEATH, which ends its sessions quietly), unknown
device, a payload over MAX_BODY_BYTES or with over MAX_METRICS metrics, undecodable payload,
unknown alias, a timestamp outside the heartbeat's bounds, a metric name with NUL, data before
the node's or device's birth); the consumer records it and acknowledges it. Per Sparkplug 3.0 a
host that gets data before a birth should ask the node to rebirth: such a rejection carries, as
its `rebirth` attribute, the NCMD `Node Control/Rebirth` message (topic, payload) for the
consumer to publish after recording it (`rebirth_message`).
"""

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum

from django.conf import settings
from pysparkplug import (
    DataType,
    DBirth,
    DData,
    DDeath,
    Metric,
    NBirth,
    NCmd,
    NData,
    NDeath,
    get_current_timestamp,
)

from fleet.presence import (
    gateway_alive,
    gateway_born,
    gateway_died,
    gateway_session_end,
    sensor_alive,
    sensor_born,
    sensor_died,
)
from fleet.schema import EARLIEST_SAMPLE, MAX_SAMPLE_AHEAD
from gateways.channels import MAX_BODY_BYTES
from gateways.messages import MessageRejected
from gateways.models import Gateway, Sensor
from sparkplug.choices import SEQ_MODULO
from sparkplug.metrics import Sample, samples_apply
from sparkplug.models import DeviceSession, EdgeNodeSession
from sparkplug.services import sequence_gap_record

logger = logging.getLogger(__name__)

NAMESPACE = "spBv1.0"
NODE_TYPES = {"NBIRTH": NBirth, "NDEATH": NDeath, "NDATA": NData}
# Commands go to edge nodes (ours among them: the rebirth request); a host has nothing to apply.
COMMAND_TYPES = {"NCMD", "DCMD"}
DEVICE_TYPES = {"DBIRTH": DBirth, "DDEATH": DDeath, "DDATA": DData}
BD_SEQ = "bdSeq"
REBIRTH = "Node Control/Rebirth"
# A birth declares every metric once; more than this is a misconfigured or hostile node.
MAX_METRICS = 1000
INT_RANGE = range(-(2**63), 2**64)  # int64 .. uint64, what Sparkplug B carries


class Order(Enum):
    """Where a message stands in its node's sequence."""

    NEXT = "next"  # the next one (or after a gap): applied
    AGAIN = "again"  # the last one delivered again: nothing to do
    REPLAY = "replay"  # an earlier one replayed: readings only


def state_message(*, online: bool, timestamp_ms: int) -> tuple[str, bytes]:
    """The host's Sparkplug 3.0 STATE message: its topic and JSON payload, to publish retained
    with QoS 1 (online at connection; offline as the will and at a clean shutdown)."""
    topic = f"{NAMESPACE}/STATE/{settings.SPARKPLUG_HOST_ID}"
    payload = json.dumps({"online": online, "timestamp": timestamp_ms}, separators=(",", ":"))
    return topic, payload.encode()


def rebirth_message(*, group_id: str, edge_node_id: str) -> tuple[str, bytes]:
    """The NCMD asking an edge node to publish its births again (`Node Control/Rebirth` =
    true): its topic and Sparkplug B payload, to publish with QoS 0, not retained."""
    now = get_current_timestamp()
    command = NCmd(timestamp=now, metrics=(Metric(now, REBIRTH, DataType.BOOLEAN, value=True),))
    topic = f"{NAMESPACE}/{group_id}/NCMD/{edge_node_id}"
    return topic, command.encode(include_dtypes=True)


@dataclass(frozen=True)
class Topic:
    group_id: str
    message_type: str
    edge_node_id: str
    device_id: str | None


def parse_topic(topic: str) -> Topic:
    """The parts of a Sparkplug B topic (NCMD and DCMD included); raises MessageRejected."""
    levels = topic.split("/")
    if len(levels) < 4 or levels[0] != NAMESPACE or not all(levels):
        raise MessageRejected(f"Not a Sparkplug B edge node topic: {topic[:200]!r}.")
    group_id, message_type, edge_node_id, *rest = levels[1:]
    if message_type in NODE_TYPES and not rest:
        return Topic(group_id, message_type, edge_node_id, None)
    if message_type in COMMAND_TYPES and len(rest) <= 1:
        return Topic(group_id, message_type, edge_node_id, rest[0] if rest else None)
    if message_type in DEVICE_TYPES and len(rest) == 1:
        return Topic(group_id, message_type, edge_node_id, rest[0])
    raise MessageRejected(
        f"Not a Sparkplug B message the host handles: {topic[:200]!r} (expected "
        "spBv1.0/{group}/N{BIRTH,DEATH,DATA}/{node} or spBv1.0/{group}/D{BIRTH,DEATH,DATA}/"
        "{node}/{device})."
    )


class _Aliases:
    """A session's alias and datatype maps in the shape pysparkplug decodes data with."""

    def __init__(self, session):
        self.session = session

    def get_name(self, alias: int) -> str:
        try:
            return self.session.aliases[str(alias)]
        except KeyError:
            raise MessageRejected(f"Metric alias {alias} was not declared in the birth.") from None

    def get_dtype(self, name: str):
        try:
            return self.session.datatypes[name]
        except KeyError:
            raise MessageRejected(f"Metric {name!r} was not declared in the birth.") from None


def _decode(kind, payload: bytes, *, topic: Topic, birth=None):
    try:
        return kind.decode(payload, birth=birth)
    except MessageRejected:
        raise
    except Exception as exc:  # protobuf, pysparkplug and value errors alike
        raise MessageRejected(
            f"Undecodable Sparkplug B {topic.message_type} payload: {exc}"[:500]
        ) from None


def handle_message(*, topic: str, payload: bytes, now: datetime) -> list[tuple[str, bytes]]:
    """Apply one Sparkplug B message received at `now` (see the module's docstring); call
    inside a transaction. Returns the commands (topic, payload) the host sends in answer, to
    publish once the transaction is committed: a rebirth request after a sequence gap.
    Raises MessageRejected for a message that can never be applied."""
    parsed = parse_topic(topic)
    if parsed.message_type in COMMAND_TYPES:
        return []  # a command to an edge node, not from one
    gateway = _gateway(parsed)
    if not gateway.is_active and parsed.message_type != "NDEATH":
        raise MessageRejected(f"Gateway {gateway.pk} is disabled.", gateway=gateway)
    if len(payload) > MAX_BODY_BYTES:
        raise MessageRejected(
            f"The payload is {len(payload)} bytes; at most {MAX_BODY_BYTES} are accepted.",
            gateway=gateway,
        )
    session, _ = EdgeNodeSession.objects.get_or_create(gateway=gateway)
    session = EdgeNodeSession.objects.select_for_update().get(pk=session.pk)
    message = _Message(topic, parsed, gateway, session, payload, now)
    getattr(message, parsed.message_type.lower())()
    return message.commands


def _gateway(topic: Topic) -> Gateway:
    gateway = (
        Gateway.objects.select_related("site")
        .filter(
            sparkplug_group_id=topic.group_id,
            sparkplug_edge_node_id=topic.edge_node_id,
        )
        .first()
    )
    if gateway is None:
        raise MessageRejected(
            f"No gateway has the Sparkplug identity group {topic.group_id!r}, "
            f"edge node {topic.edge_node_id!r}."
        )
    return gateway


def _moment(timestamp_ms: int | None, default: datetime) -> datetime:
    if timestamp_ms is None:
        return default
    try:
        return datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise MessageRejected(f"Timestamp {timestamp_ms} is out of range.") from None


def _bounds_problem(payload, now: datetime) -> str | None:
    """Why the decoded payload cannot be stored (too many metrics, a timestamp outside the
    heartbeat's bounds, a name PostgreSQL cannot hold, an integer beyond 64 bits), or None."""
    metrics = getattr(payload, "metrics", ())
    if len(metrics) > MAX_METRICS:
        return f"{len(metrics)} metrics; at most {MAX_METRICS} per message are accepted."
    latest = int((now + MAX_SAMPLE_AHEAD).timestamp() * 1000)
    earliest = int(EARLIEST_SAMPLE.timestamp() * 1000)
    stamps = [("payload", payload.timestamp)]
    stamps += [(repr(m.name or m.alias), m.timestamp) for m in metrics]
    for what, stamp in stamps:
        if stamp is not None and not earliest <= stamp <= latest:
            return (
                f"Timestamp {stamp} of {what[:100]} is before 2000-01-01 or more than 5 minutes "
                "in the future (is the node's clock set?)."
            )
    for metric in metrics:
        if metric.name and "\x00" in metric.name:
            return f"Metric name {metric.name[:100]!r} contains NUL."
        value = metric.value
        if isinstance(value, int) and not isinstance(value, bool) and value not in INT_RANGE:
            return f"Metric {metric.name!r} has an integer value beyond 64 bits."
    return None


class _Message:
    """One message being applied, with its node's locked session."""

    def __init__(self, topic, parsed, gateway, session, payload, now):
        self.topic, self.parsed, self.gateway = topic, parsed, gateway
        self.session, self.payload, self.now = session, payload, now
        self.commands: list[tuple[str, bytes]] = []

    def reject(self, reason: str):
        return MessageRejected(reason, gateway=self.gateway)

    def decode(self, kind, *, birth=None):
        """The payload decoded and checked against what can be stored."""
        payload = _decode(kind, self.payload, topic=self.parsed, birth=birth)
        problem = _bounds_problem(payload, self.now)
        if problem:
            raise self.reject(f"{self.parsed.message_type}: {problem}")
        return payload

    def reject_before_birth(self, reason: str):
        """A rejection of data the host cannot interpret without the node's births: it carries
        the rebirth command for the consumer to publish."""
        rejection = self.reject(f"{reason}; the node must rebirth.")
        rejection.rebirth = rebirth_message(
            group_id=self.parsed.group_id, edge_node_id=self.parsed.edge_node_id
        )
        return rejection

    # --- the edge node ---------------------------------------------------------------

    def nbirth(self) -> None:
        birth = self.decode(NBirth)
        bd_seq = next((m.value for m in birth.metrics if m.name == BD_SEQ), None)
        if not isinstance(bd_seq, int):
            raise self.reject("The NBIRTH has no integer bdSeq metric.")
        bd_seq %= SEQ_MODULO
        session = self.session
        if self.earlier_birth(bd_seq, birth.timestamp):
            self.apply(birth, sensor=None, replay=True)
            return
        if session.online:
            # Born again without a death heard: its devices are born again too.
            DeviceSession.objects.filter(sensor__gateway=self.gateway).update(online=False)
        session.online, session.born_at, session.died_at = True, self.now, None
        session.bd_seq, session.birth_timestamp = bd_seq, birth.timestamp
        session.seq, session.last_timestamp = birth.seq % SEQ_MODULO, birth.timestamp
        session.aliases, session.datatypes = _declared(birth)
        session.save()
        gateway_born(gateway=self.gateway, now=self.now)
        self.apply(birth, sensor=None)

    def earlier_birth(self, bd_seq: int, timestamp: int) -> bool:
        """Whether an NBIRTH is the current birth again or a replay of an earlier one (older,
        with a bdSeq behind the current one), rather than a new session."""
        session = self.session
        if session.birth_timestamp is None:
            return False
        if (bd_seq, timestamp) == (session.bd_seq, session.birth_timestamp):
            return True
        behind = 0 < (session.bd_seq - bd_seq) % SEQ_MODULO < SEQ_MODULO // 2
        return timestamp < session.birth_timestamp and behind

    def ndeath(self) -> None:
        # Not bounds-checked: it carries only its bdSeq, and a node whose clock is wrong must
        # still be able to die (its will's timestamp is from when it connected).
        death = _decode(NDeath, self.payload, topic=self.parsed)
        metric = death.bd_seq_metric
        bd_seq = metric.value if metric.name == BD_SEQ else None
        if not isinstance(bd_seq, int):
            raise self.reject("The NDEATH has no integer bdSeq metric.")
        session = self.session
        if not session.online or session.bd_seq != bd_seq % SEQ_MODULO:
            logger.info(
                "NDEATH of gateway %s with bdSeq %s ignored (current birth: %s, %s).",
                self.gateway.pk,
                bd_seq,
                session.bd_seq,
                "online" if session.online else "offline",
            )
            return
        session.online, session.died_at = False, self.now
        session.save(update_fields=["online", "died_at"])
        devices = DeviceSession.objects.filter(sensor__gateway=self.gateway, online=True)
        if not self.gateway.is_active:
            # A disabled gateway's death only ends its sessions (no events, no work: the fleet
            # check does not watch it), so it is not taken for online when enabled again.
            devices.update(online=False, died_at=self.now)
            gateway_session_end(gateway=self.gateway)
            return
        for device in devices.select_related("sensor"):
            sensor_died(sensor=device.sensor, now=self.now)
        devices.update(online=False, died_at=self.now)
        gateway_died(gateway=self.gateway, now=self.now)

    def ndata(self) -> None:
        if not self.session.online:
            self.ended_session_replay(NData, self.session, sensor=None, reason=self.unborn())
            return
        data = self.decode(NData, birth=_Aliases(self.session))
        order = self.sequence(data.seq, data.timestamp)
        if order == Order.NEXT:
            gateway_alive(gateway=self.gateway, now=self.now)
        if order != Order.AGAIN:
            self.apply(data, sensor=None, replay=order == Order.REPLAY)

    # --- its devices -----------------------------------------------------------------

    def dbirth(self) -> None:
        self.require_birth()
        sensor = self.sensor()
        birth = self.decode(DBirth)
        order = self.sequence(birth.seq, birth.timestamp)
        if order != Order.NEXT:
            if order == Order.REPLAY:
                self.apply(birth, sensor=sensor, replay=True)
            return
        device, _ = DeviceSession.objects.get_or_create(sensor=sensor)
        device.online, device.born_at, device.died_at = True, self.now, None
        device.aliases, device.datatypes = _declared(birth)
        device.save()
        gateway_alive(gateway=self.gateway, now=self.now)
        sensor_born(sensor=sensor, now=self.now, sampled_at=_moment(birth.timestamp, self.now))
        self.apply(birth, sensor=sensor)

    def ddeath(self) -> None:
        self.require_birth()
        sensor = self.sensor()
        death = self.decode(DDeath)
        if self.sequence(death.seq, death.timestamp) != Order.NEXT:
            return
        gateway_alive(gateway=self.gateway, now=self.now)
        DeviceSession.objects.filter(sensor=sensor).update(online=False, died_at=self.now)
        sensor_died(sensor=sensor, now=self.now)

    def ddata(self) -> None:
        if not self.session.online:
            device = (
                DeviceSession.objects.select_related("sensor")
                .filter(sensor__gateway=self.gateway, sensor__code=self.parsed.device_id)
                .first()
            )
            sensor = device.sensor if device else None
            self.ended_session_replay(DData, device, sensor=sensor, reason=self.unborn())
            return
        sensor = self.sensor()
        device = DeviceSession.objects.filter(sensor=sensor).first()
        if device is None or not device.online:
            reason = f"DDATA of device {sensor.code!r} before its DBIRTH"
            self.ended_session_replay(DData, device, sensor=sensor, reason=reason)
            return
        data = self.decode(DData, birth=_Aliases(device))
        order = self.sequence(data.seq, data.timestamp)
        if order == Order.AGAIN:
            return
        if order == Order.NEXT:
            gateway_alive(gateway=self.gateway, now=self.now)
            sampled_at = _moment(data.timestamp, self.now)
            sensor_alive(sensor=sensor, now=self.now, sampled_at=sampled_at)
        self.apply(data, sensor=sensor, replay=order == Order.REPLAY)

    # --- shared steps ----------------------------------------------------------------

    def require_birth(self) -> None:
        if not self.session.online:
            raise self.reject_before_birth(self.unborn())

    def unborn(self) -> str:
        return (
            f"{self.parsed.message_type} before the edge node's NBIRTH (or after its "
            "NDEATH): its aliases and sequence are unknown"
        )

    def ended_session_replay(self, kind, holder, *, sensor, reason: str) -> None:
        """Data for a session that has ended or never began: a replay of the ended session's
        (decodable with its aliases, not newer than the last message heard) still feeds
        readings; anything else cannot be interpreted and asks for a rebirth (`reason`)."""
        last = self.session.last_timestamp
        if holder is not None and last is not None:
            try:
                data = self.decode(kind, birth=_Aliases(holder))
            except MessageRejected:
                data = None
            if data is not None and data.timestamp is not None and data.timestamp <= last:
                self.apply(data, sensor=sensor, replay=True)
                return
        raise self.reject_before_birth(reason)

    def sensor(self) -> Sensor:
        sensor = Sensor.objects.filter(gateway=self.gateway, code=self.parsed.device_id).first()
        if sensor is None:
            raise self.reject(
                f"Gateway {self.gateway.pk} has no sensor with the code "
                f"{self.parsed.device_id!r} (the Sparkplug device id)."
            )
        return sensor

    def sequence(self, seq: int, timestamp: int) -> Order:
        """Where the message stands (see Order), recording its sequence number when it is the
        next one. A replay is not the next one and not newer than the last one heard: the
        sequence never moves back because of it (and records no gap)."""
        session = self.session
        seq %= SEQ_MODULO
        if seq == session.seq and timestamp == session.last_timestamp:
            return Order.AGAIN
        expected = (session.seq + 1) % SEQ_MODULO
        last = session.last_timestamp
        if seq != expected and last is not None and timestamp is not None and timestamp <= last:
            logger.info(
                "Sparkplug message of gateway %s replayed (seq %s, last %s): readings only.",
                self.gateway.pk,
                seq,
                session.seq,
            )
            return Order.REPLAY
        if seq != expected:
            sequence_gap_record(
                gateway=self.gateway, expected=expected, got=seq, topic=self.topic, now=self.now
            )
            logger.warning(
                "Sparkplug sequence gap on gateway %s: expected %s, got %s; rebirth asked.",
                self.gateway.pk,
                expected,
                seq,
            )
            # Messages were lost (the node may even have died and been born again unheard):
            # the node's births tell the host its state and bdSeq again (Sparkplug 3.0).
            self.commands.append(
                rebirth_message(
                    group_id=self.parsed.group_id, edge_node_id=self.parsed.edge_node_id
                )
            )
        session.seq, session.last_timestamp = seq, timestamp
        session.save(update_fields=["seq", "last_timestamp"])
        return Order.NEXT

    def apply(self, payload, *, sensor, replay: bool = False) -> None:
        """Feed the payload's metrics to their mappings; a replay's as history (readings
        only: threshold rules judge the present)."""
        default = _moment(payload.timestamp, self.now)
        samples = [
            Sample(
                name=metric.name,
                value=metric.value,
                at=_moment(metric.timestamp, default),
                timestamp_ms=payload.timestamp if metric.timestamp is None else metric.timestamp,
                historical=replay or metric.is_historical,
            )
            for metric in payload.metrics
            if metric.name and not metric.is_null and metric.value is not None
        ]
        samples_apply(gateway=self.gateway, sensor=sensor, samples=samples, now=self.now)


def _declared(birth) -> tuple[dict, dict]:
    """The aliases ({"alias": name}) and datatypes ({name: number}) a birth declares."""
    aliases = {str(m.alias): m.name for m in birth.metrics if m.alias is not None}
    datatypes = {m.name: int(m.datatype) for m in birth.metrics}
    return aliases, datatypes
