"""The MQTT consumer: one long-running client that stores what gateways publish.

Delivery is at least once, end to end, and every effect is stored once:

- One paho client with a fixed client id (`MQTT_CLIENT_ID`) and `clean_session=False`: the
  broker keeps the subscriptions and queues QoS 1 messages while the consumer is away.
- Messages are stored in batches, acknowledged after commit: the loop reads every message
  waiting on the socket (at most BATCH_MESSAGES, for at most BATCH_SECONDS), stores the batch
  in one transaction and only then sends the batch's PUBACKs, in order. A message whose effect
  was not committed is never acknowledged, so the broker delivers it again; the ingest
  services are idempotent (`alert_id`, `reading_id`), so a redelivery stores nothing twice.
  paho 1.6.1 acknowledges a QoS 1 message as soon as `on_message` returns; `DeferredAckClient`
  holds those PUBACKs back until the consumer releases them (see there: tied to the pin).
- In a batch, plain JSON messages are parsed one by one and their items ingested with one call
  of the channel's ingest per gateway and channel (in arrival order); Sparkplug messages are
  applied in arrival order, each in a savepoint.
- A message that can never be accepted (`MessageRejected`, or an unexpected error in its
  handler) is recorded (`mqtt.RejectedMessage`) and acknowledged: redelivering it would fail
  the same way forever. The rest of its batch is stored as if it had not been there.
- The database unavailable: no acknowledgement for any message of the batch, the process
  exits non-zero (EXIT_DATABASE); its supervisor starts it again and the broker redelivers to
  the persistent session.
- A channel's `retry_later` (a lost race, nothing stored) or an unexpected error in a batch:
  the batch is rolled back and its messages handled again one by one, each in its own
  transaction: a lost race is handled again in-process up to RACE_ATTEMPTS times, then the
  process exits non-zero (EXIT_RACED), unacknowledged.
- SIGTERM/SIGINT: the current batch is finished, the host's offline STATE is published, and
  the client disconnects cleanly (exit 0). A lost broker is reconnected with backoff; the
  messages of a batch not yet stored are then left to the broker's redelivery.

It is also the Sparkplug B host application: its will is the offline STATE (retained, QoS 1)
and it publishes the online STATE once its subscriptions are granted (Sparkplug 3.0: both with
the timestamp of that connection).
"""

import logging
import select
import ssl
import threading
import time
from datetime import datetime

import paho.mqtt.client as paho
from celery import current_app as current_celery_app
from django.core.exceptions import ImproperlyConfigured
from django.db import InterfaceError, OperationalError, close_old_connections, transaction
from django.utils import timezone
from paho.mqtt import __version__ as PAHO_INSTALLED

from gateways.channels import Channel
from gateways.messages import MessageRejected
from gateways.models import Gateway
from gateways.services import gateway_touch
from mqtt.dynsec import Broker  # MQTT_URL read once for both: the password never in a repr
from mqtt.records import excerpt_of, rejected_message_record
from mqtt.topics import (
    CHANNELS,
    JSON_PREFIX,
    JSON_SUBSCRIPTION,
    SPARKPLUG_PREFIX,
    SPARKPLUG_STATE_PREFIX,
    SPARKPLUG_SUBSCRIPTION,
    json_message_handle,
    json_message_parse,
)
from sparkplug import host

logger = logging.getLogger(__name__)

DATABASE_DOWN = (OperationalError, InterfaceError)
RETRY_LATER = tuple({exc for channel in CHANNELS.values() for exc in channel.retry_later})
RACE_ATTEMPTS = 3
SUBSCRIPTIONS = [(JSON_SUBSCRIPTION, 1), (SPARKPLUG_SUBSCRIPTION, 1)]
EXIT_CONFIGURATION = 2
EXIT_DATABASE = 3
EXIT_RACED = 4
RECONNECT_MIN_SECONDS = 0.5
RECONNECT_MAX_SECONDS = 15.0
CONNECTION_CHECK_SECONDS = 1.0
LOG_EXCERPT = 120
LOG_REASON = 300
# A batch: what is waiting on the socket, bounded so that one transaction stays short and a
# message waits at most about BATCH_SECONDS for its batch-mates (the broker's own limit on
# unacknowledged messages in flight, Mosquitto's max_inflight_messages, bounds it too).
BATCH_MESSAGES = 500
BATCH_SECONDS = 0.05
# The most items one ingest call takes in a batch: the webhook's largest body (an INSERT of
# more alerts would run into PostgreSQL's limit on a statement's parameters).
GROUP_ITEMS = 1000
PAHO_VERSION = "1.6.1"


class StopConsuming(Exception):
    """Leave the loop without acknowledging the current message; exit with `exit_code`."""

    def __init__(self, message: str, *, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


class DeferredAckClient(paho.Client):
    """A paho client whose QoS 1 PUBACKs wait until `acknowledge()`: ack after commit.

    paho 1.6.1 (pinned: pysparkplug requires paho < 2, which has no manual acknowledgement)
    reads a QoS 1 PUBLISH in `_handle_publish`, calls `on_message`, then `_send_puback(mid)`.
    Overriding that private method is tied to the pinned version: `Consumer` refuses to start
    on another one, and tests/mqtt/test_consumer_batch.py fails if paho stops acknowledging
    through it. The mids wait in arrival order; `forget_acknowledgements()` drops them when the
    connection they belong to is gone (the broker redelivers those messages).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.deferred_acks: list[int] = []

    def _send_puback(self, mid):
        self.deferred_acks.append(mid)
        return paho.MQTT_ERR_SUCCESS

    def acknowledge(self) -> None:
        """Send the PUBACKs held back so far, in the order their messages arrived."""
        mids, self.deferred_acks = self.deferred_acks, []
        for mid in mids:
            super()._send_puback(mid)

    def forget_acknowledgements(self) -> None:
        self.deferred_acks = []


class PendingIngest:
    """A batch's plain JSON messages, parsed, their items waiting for one ingest call per
    (gateway, channel): one INSERT for a batch of alerts instead of one per message.

    Items keep their arrival order within a gateway's channel (a cumulative meter's readings
    are checked in order). A duplicate `alert_id` or `reading_id` within one call is what the
    ingest services already handle for a webhook body (the first copy is stored, a later one
    answered duplicate or conflict); a body that is not a list (a heartbeat) is ingested alone.
    """

    def __init__(self):
        self.gateways: dict[str, Gateway] = {}
        self.calls: dict[tuple, list] = {}

    def add(self, gateway: Gateway, channel: Channel, items) -> None:
        calls = self.calls.setdefault((gateway.pk, channel.name), [])
        if not isinstance(items, list):
            calls.append((gateway, channel, items))
        elif calls and len(calls[-1][2]) + len(items) <= GROUP_ITEMS:
            calls[-1][2].extend(items)
        else:
            calls.append((gateway, channel, list(items)))

    def ingest(self, *, now: datetime) -> None:
        """Store every group in the caller's transaction; a channel's `retry_later` propagates."""
        touched = {}
        for calls in self.calls.values():
            for gateway, channel, items in calls:
                channel.ingest(gateway=gateway, items=items, now=now)
                touched[gateway.pk] = gateway
        for gateway in touched.values():
            gateway_touch(gateway=gateway, now=now)


RETAINED = (
    "A retained message (replayed by the broker on every subscription): gateways must publish "
    "with retain false."
)


def message_handle(
    *,
    topic: str,
    payload: bytes,
    now: datetime,
    retained: bool = False,
    pending: PendingIngest | None = None,
) -> list[tuple[str, bytes]]:
    """Store one message in the caller's transaction; raises MessageRejected. Returns the
    commands (topic, payload) to publish once it is committed (a Sparkplug rebirth request).

    `retained`: the broker replayed a stored retained message on (re)subscribing, not a live
    publish (MQTT 3.1.1 clears the flag on those). Only the hosts' STATE is retained by design;
    anything else would be stored again on every reconnect (a stale heartbeat would make a
    silent gateway look alive).

    `pending`: the message is part of a batch. A plain JSON message is then only parsed, its
    items added to `pending` for the batch's grouped ingest; a Sparkplug message is applied in
    a savepoint, so its rejection undoes nothing else of the batch.
    """
    if topic.startswith(SPARKPLUG_STATE_PREFIX):
        return []  # host applications' STATE, ours included: nothing to store
    if retained:
        raise MessageRejected(RETAINED)
    if topic.startswith(JSON_PREFIX):
        if pending is None:
            json_message_handle(topic=topic, payload=payload, now=now)
        else:
            parsed = json_message_parse(topic=topic, payload=payload, gateways=pending.gateways)
            pending.add(*parsed)
        return []
    if topic.startswith(SPARKPLUG_PREFIX):
        if pending is None:
            return host.handle_message(topic=topic, payload=payload, now=now)
        with transaction.atomic():
            return host.handle_message(topic=topic, payload=payload, now=now)
    raise MessageRejected("Not a topic the consumer reads.")


class Consumer:
    """The consumer's client and loop; `run()` returns the process's exit code."""

    def __init__(self, *, broker: Broker, client_id: str, keepalive: int = 30):
        self.broker = broker
        self.keepalive = keepalive
        self.stopping = threading.Event()
        self.state_timestamp_ms = 0
        self.subscribe_mid = None
        self.connections_checked_at = -CONNECTION_CHECK_SECONDS
        if PAHO_INSTALLED != PAHO_VERSION:
            raise ImproperlyConfigured(
                f"The MQTT consumer defers PUBACKs through paho-mqtt {PAHO_VERSION}'s internals; "
                f"paho-mqtt {PAHO_INSTALLED} is installed (see DeferredAckClient)."
            )
        self.client = DeferredAckClient(client_id=client_id, clean_session=False)
        self.batch: list[paho.MQTTMessage] = []
        self.client.enable_logger(logging.getLogger("mqtt.paho"))
        if broker.username:
            self.client.username_pw_set(broker.username, broker.password or None)
        if broker.tls:
            self.client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message

    def stop(self, *_args) -> None:
        """Ask the loop to stop after the current batch (a signal handler)."""
        self.stopping.set()

    # -- the loop

    def run(self) -> int:
        self._warm_up()
        try:
            self._connect()
            while not self.stopping.is_set():
                rc = self.client.loop(timeout=0.5)
                if rc == paho.MQTT_ERR_SUCCESS and self.batch:
                    rc = self._read_waiting()
                if rc != paho.MQTT_ERR_SUCCESS:
                    # The batch's messages are redelivered on the next connection; PUBACKs of
                    # this one's mids would acknowledge nothing there.
                    self._forget_batch()
                    if not self.stopping.is_set():
                        logger.warning("Lost the broker (%s); reconnecting.", paho.error_string(rc))
                        self._connect()
                    continue
                self._consume_batch()
        except StopConsuming as exc:
            # No DISCONNECT: the broker publishes the will (our offline STATE) and keeps the
            # unacknowledged messages for the next run.
            logger.error("MQTT consumer stopped: %s", exc)
            return exc.exit_code
        self._disconnect()
        return 0

    def _read_waiting(self) -> int:
        """Read the packets already waiting on the socket into the open batch, up to
        BATCH_MESSAGES or BATCH_SECONDS; never waits for more (a lone alert is stored at once).
        paho's loop() reads one packet per call; its loop_read() as many as it has messages
        in flight, so it is called again while the socket is readable."""
        deadline = time.monotonic() + BATCH_SECONDS
        while len(self.batch) < BATCH_MESSAGES and time.monotonic() < deadline:
            sock = self.client.socket()
            if sock is None:
                return paho.MQTT_ERR_NO_CONN
            pending = sock.pending() if hasattr(sock, "pending") else 0
            if not pending and not select.select([sock], [], [], 0)[0]:
                break
            rc = self.client.loop_read()
            if rc != paho.MQTT_ERR_SUCCESS:
                return rc
        return paho.MQTT_ERR_SUCCESS

    def _consume_batch(self) -> None:
        """Store the open batch, then acknowledge its messages (raises StopConsuming first when
        it could not be stored: nothing of it is acknowledged)."""
        if self.batch:
            messages, self.batch = self.batch, []
            self.batch_handle(messages)
        self.client.acknowledge()

    def _forget_batch(self) -> None:
        self.batch = []
        self.client.forget_acknowledgements()

    def _warm_up(self) -> None:
        """Open Celery's producer before the first batch does, with its messages waiting:
        importing kombu's transport and connecting took 0.6 s of the first batch in the
        benchmark. Never fatal: a broker down now is retried by the first dispatch (and an
        alert not dispatched is the sweeper's)."""
        if current_celery_app.conf.task_always_eager:
            return
        try:
            with current_celery_app.producer_or_acquire() as producer:
                producer.connection.ensure_connection(max_retries=1)
        except Exception as exc:
            logger.warning("Celery's broker is not reachable yet (%s).", exc)

    def _connect(self) -> None:
        """Connect (or reconnect) with backoff until connected or asked to stop."""
        delay = RECONNECT_MIN_SECONDS
        while not self.stopping.is_set():
            self._set_will()
            try:
                self.client.connect(self.broker.host, self.broker.port, self.keepalive)
                return
            except OSError as exc:
                logger.warning("Broker %s:%s unreachable (%s).", *self._address(), exc)
                self.stopping.wait(delay)
                delay = min(delay * 2, RECONNECT_MAX_SECONDS)

    def _address(self) -> tuple[str, int]:
        return self.broker.host, self.broker.port

    def _set_will(self) -> None:
        """The offline STATE of the coming connection; its birth carries the same timestamp."""
        self.state_timestamp_ms = int(time.time() * 1000)
        topic, payload = host.state_message(online=False, timestamp_ms=self.state_timestamp_ms)
        self.client.will_set(topic, payload, qos=1, retain=True)

    def _disconnect(self) -> None:
        """Say the host is offline (the will is not sent on a clean disconnect), then leave."""
        if self.client.is_connected():
            topic, payload = host.state_message(online=False, timestamp_ms=self.state_timestamp_ms)
            info = self.client.publish(topic, payload, qos=1, retain=True)
            deadline = time.monotonic() + 5
            while not info.is_published() and time.monotonic() < deadline:
                if self.client.loop(timeout=0.1) != paho.MQTT_ERR_SUCCESS:
                    break
            self.client.disconnect()
        logger.info("MQTT consumer stopped cleanly.")

    # -- paho callbacks

    def _on_connect(self, client, userdata, flags, rc) -> None:
        if rc != paho.CONNACK_ACCEPTED:
            raise StopConsuming(
                f"the broker refused the connection: {paho.connack_string(rc)}",
                exit_code=EXIT_CONFIGURATION,
            )
        logger.info(
            "Connected to %s:%s (session present: %s).",
            *self._address(),
            bool(flags.get("session present")),
        )
        _, self.subscribe_mid = client.subscribe(SUBSCRIPTIONS)

    def _on_subscribe(self, client, userdata, mid, granted_qos) -> None:
        if mid != self.subscribe_mid:
            return
        if any(qos not in (0, 1, 2) for qos in granted_qos):
            raise StopConsuming(
                f"the broker refused the subscriptions {SUBSCRIPTIONS}",
                exit_code=EXIT_CONFIGURATION,
            )
        topic, payload = host.state_message(online=True, timestamp_ms=self.state_timestamp_ms)
        client.publish(topic, payload, qos=1, retain=True)

    def _on_message(self, client, userdata, message) -> None:
        """Add the message to the open batch; its PUBACK waits for the batch's commit."""
        self.batch.append(message)

    # -- storing a batch

    def batch_handle(self, messages: list[paho.MQTTMessage]) -> None:
        """Commit the effect (or the rejection) of every message; raises StopConsuming to leave
        them all unacknowledged. One transaction for the batch; the messages one by one, each in
        its own, when the batch lost a race or hit an unexpected error (or holds one message)."""
        self._close_old_connections()
        if len(messages) > 1:
            try:
                try:
                    self._batch_commit(messages)
                    return
                except RETRY_LATER as exc:
                    logger.warning(
                        "A batch of %s messages raced (%s); handling them one by one.",
                        len(messages),
                        exc,
                    )
                except DATABASE_DOWN:
                    raise
                except Exception:
                    logger.exception(
                        "Error storing a batch of %s messages; handling them one by one.",
                        len(messages),
                    )
            except DATABASE_DOWN as exc:
                raise StopConsuming(
                    f"database unavailable ({exc}); a batch of {len(messages)} messages left "
                    "unacknowledged",
                    exit_code=EXIT_DATABASE,
                ) from exc
        for message in messages:
            self._message_alone(message)

    def _batch_commit(self, messages: list[paho.MQTTMessage]) -> None:
        """The batch in one transaction: each message parsed (or applied, Sparkplug) in arrival
        order, a rejected one recorded, then the JSON items ingested per gateway and channel."""
        now = timezone.now()
        pending = PendingIngest()
        commands = []
        with transaction.atomic():
            for message in messages:
                topic = _topic(message)
                try:
                    commands += message_handle(
                        topic=topic,
                        payload=message.payload,
                        now=now,
                        retained=bool(message.retain),
                        pending=pending,
                    )
                except MessageRejected as exc:
                    self._reject(message, topic, exc.reason, gateway=exc.gateway, now=now)
                    commands += _rebirth_of(exc)
            pending.ingest(now=now)
        self._send_commands(commands)

    def _message_alone(self, message) -> None:
        """Commit one message's effect (or its rejection) in its own transaction. Raises
        StopConsuming to leave it unacknowledged."""
        topic = _topic(message)
        for attempt in range(1, RACE_ATTEMPTS + 1):
            now = timezone.now()
            try:
                try:
                    with transaction.atomic():
                        commands = message_handle(
                            topic=topic,
                            payload=message.payload,
                            now=now,
                            retained=bool(message.retain),
                        )
                    self._send_commands(commands)
                    return
                except MessageRejected as exc:
                    self._reject(message, topic, exc.reason, gateway=exc.gateway, now=now)
                    self._send_commands(_rebirth_of(exc))
                    return
                except RETRY_LATER as exc:
                    logger.warning("%s raced (%s), attempt %s.", topic, exc, attempt)
                    continue
                except DATABASE_DOWN:
                    raise
                except Exception as exc:
                    # A bug, not the sender's fault; redelivering would fail the same way.
                    logger.exception("Error handling a message on %s.", topic)
                    reason = f"Internal error ({type(exc).__name__}); see the consumer's log."
                    self._reject(message, topic, reason, gateway=None, now=now)
                    return
            except DATABASE_DOWN as exc:
                raise StopConsuming(
                    f"database unavailable ({exc}); {topic} left unacknowledged",
                    exit_code=EXIT_DATABASE,
                ) from exc
        raise StopConsuming(
            f"{topic} raced {RACE_ATTEMPTS} times; left unacknowledged", exit_code=EXIT_RACED
        )

    def _send_commands(self, commands: list[tuple[str, bytes]]) -> None:
        """Sparkplug commands the host answers with, once what caused them is committed: a
        node's rebirth request (after data before its birth, or a sequence gap). QoS 0, as
        Sparkplug sends commands: a lost request is asked again with the node's next data.
        One request per node however many messages of the batch asked for it."""
        for topic, payload in dict(commands).items():
            self.client.publish(topic, payload, qos=0, retain=False)

    def _close_old_connections(self) -> None:
        """Django's per-request connection upkeep (DB_CONN_MAX_AGE, health checks), at most once
        a second: its health check is a round trip, as long as storing an alert."""
        if time.monotonic() - self.connections_checked_at >= CONNECTION_CHECK_SECONDS:
            close_old_connections()
            self.connections_checked_at = time.monotonic()

    def _reject(self, message, topic: str, reason: str, *, gateway, now: datetime) -> None:
        """Record the rejection and log one line. Failing to record it (but for the database
        being down) is logged and the message still acknowledged: never a crash loop."""
        try:
            rejected_message_record(
                topic=topic,
                payload=message.payload,
                reason=reason,
                now=now,
                gateway=gateway,
                qos=message.qos,
                retain=bool(message.retain),
            )
        except DATABASE_DOWN:
            raise
        except Exception:
            logger.exception("Could not record the rejected message on %s.", topic[:200])
        logger.warning(
            "Rejected a message on %s: %s Excerpt: %r",
            topic[:200],
            " ".join(reason.split())[:LOG_REASON],
            excerpt_of(message.payload)[:LOG_EXCERPT],
        )


def _rebirth_of(rejection: MessageRejected) -> list[tuple[str, bytes]]:
    """The rebirth request a rejection of data before a birth carries ([] for others)."""
    rebirth = getattr(rejection, "rebirth", None)
    return [] if rebirth is None else [rebirth]


def _topic(message) -> str:
    """The message's topic as text; a broker enforces UTF-8, a bug never crashes the loop."""
    return message._topic.decode("utf-8", errors="replace")
