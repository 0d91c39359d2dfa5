"""The MQTT consumer: one long-running client that stores what gateways publish.

Delivery is at least once, end to end, and every effect is stored once:

- One paho client with a fixed client id (`MQTT_CLIENT_ID`) and `clean_session=False`: the
  broker keeps the subscriptions and queues QoS 1 messages while the consumer is away.
- Each message is handled in one `transaction.atomic()`, committed before `on_message`
  returns; paho 1.6.1 sends the PUBACK only then. A message whose effect was not committed is
  never acknowledged, so the broker delivers it again; the ingest services are idempotent
  (`alert_id`, `reading_id`), so a redelivery stores nothing twice.
- A message that can never be accepted (`MessageRejected`, or an unexpected error in its
  handler) is recorded (`mqtt.RejectedMessage`) and acknowledged: redelivering it would fail
  the same way forever.
- The database unavailable: no acknowledgement, the process exits non-zero (EXIT_DATABASE);
  its supervisor starts it again and the broker redelivers to the persistent session.
- A channel's `retry_later` (a lost race, nothing stored): handled again in-process up to
  RACE_ATTEMPTS times, then the process exits non-zero (EXIT_RACED), unacknowledged.
- SIGTERM/SIGINT: the current message is finished, the host's offline STATE is published, and
  the client disconnects cleanly (exit 0). A lost broker is reconnected with backoff.

It is also the Sparkplug B host application: its will is the offline STATE (retained, QoS 1)
and it publishes the online STATE once its subscriptions are granted (Sparkplug 3.0: both with
the timestamp of that connection).
"""

import logging
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as paho
from django.core.exceptions import ImproperlyConfigured
from django.db import InterfaceError, OperationalError, close_old_connections, transaction
from django.utils import timezone

from gateways.messages import MessageRejected
from mqtt.records import excerpt_of, rejected_message_record
from mqtt.topics import (
    CHANNELS,
    JSON_PREFIX,
    JSON_SUBSCRIPTION,
    SPARKPLUG_PREFIX,
    SPARKPLUG_STATE_PREFIX,
    SPARKPLUG_SUBSCRIPTION,
    json_message_handle,
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


class StopConsuming(Exception):
    """Leave the loop without acknowledging the current message; exit with `exit_code`."""

    def __init__(self, message: str, *, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class Broker:
    """Where the broker is and who the system is there, from `MQTT_URL`."""

    host: str
    port: int
    username: str
    password: str
    tls: bool

    @classmethod
    def from_url(cls, url: str) -> "Broker":
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ImproperlyConfigured("MQTT_URL must read mqtt[s]://user:password@host:port.")
        tls = parts.scheme == "mqtts"
        try:
            port = parts.port or (8883 if tls else 1883)
        except ValueError:
            raise ImproperlyConfigured("MQTT_URL has an invalid port.") from None
        return cls(
            host=parts.hostname,
            port=port,
            username=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            tls=tls,
        )


RETAINED = (
    "A retained message (replayed by the broker on every subscription): gateways must publish "
    "with retain false."
)


def message_handle(*, topic: str, payload: bytes, now: datetime, retained: bool = False) -> None:
    """Store one message in the caller's transaction; raises MessageRejected.

    `retained`: the broker replayed a stored retained message on (re)subscribing, not a live
    publish (MQTT 3.1.1 clears the flag on those). Only the hosts' STATE is retained by design;
    anything else would be stored again on every reconnect (a stale heartbeat would make a
    silent gateway look alive).
    """
    if topic.startswith(SPARKPLUG_STATE_PREFIX):
        return  # host applications' STATE, ours included: nothing to store
    if retained:
        raise MessageRejected(RETAINED)
    if topic.startswith(JSON_PREFIX):
        json_message_handle(topic=topic, payload=payload, now=now)
    elif topic.startswith(SPARKPLUG_PREFIX):
        host.handle_message(topic=topic, payload=payload, now=now)
    else:
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
        self.client = paho.Client(client_id=client_id, clean_session=False)
        self.client.enable_logger(logging.getLogger("mqtt.paho"))
        if broker.username:
            self.client.username_pw_set(broker.username, broker.password or None)
        if broker.tls:
            self.client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message

    def stop(self, *_args) -> None:
        """Ask the loop to stop after the current message (a signal handler)."""
        self.stopping.set()

    # -- the loop

    def run(self) -> int:
        try:
            self._connect()
            while not self.stopping.is_set():
                rc = self.client.loop(timeout=0.5)
                if rc != paho.MQTT_ERR_SUCCESS and not self.stopping.is_set():
                    logger.warning("Lost the broker (%s); reconnecting.", paho.error_string(rc))
                    self._connect()
        except StopConsuming as exc:
            # No DISCONNECT: the broker publishes the will (our offline STATE) and keeps the
            # unacknowledged message for the next run.
            logger.error("MQTT consumer stopped: %s", exc)
            return exc.exit_code
        self._disconnect()
        return 0

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
        """Commit the message's effect (or its rejection) before returning: paho acknowledges
        it right after. Raises StopConsuming to leave it unacknowledged."""
        self._close_old_connections()
        topic = _topic(message)
        for attempt in range(1, RACE_ATTEMPTS + 1):
            now = timezone.now()
            try:
                try:
                    with transaction.atomic():
                        message_handle(
                            topic=topic,
                            payload=message.payload,
                            now=now,
                            retained=bool(message.retain),
                        )
                    return
                except MessageRejected as exc:
                    self._reject(message, topic, exc.reason, gateway=exc.gateway, now=now)
                    self._ask_rebirth(exc)
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

    def _ask_rebirth(self, rejection: MessageRejected) -> None:
        """A Sparkplug node that sent data before its birth is asked to be born again (the
        NCMD the rejection carries); QoS 0, as Sparkplug sends commands: a lost request is
        asked again with the node's next data."""
        rebirth = getattr(rejection, "rebirth", None)
        if rebirth is not None:
            topic, payload = rebirth
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


def _topic(message) -> str:
    """The message's topic as text; a broker enforces UTF-8, a bug never crashes the loop."""
    return message._topic.decode("utf-8", errors="replace")
