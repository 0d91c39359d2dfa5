"""Figures 11 and 12: gateways' alerts over MQTT (`python -m bench --only mqtt`).

11. Alert ingest: `mqtt_alerts` alerts, one per QoS 1 message on
    `cmms/v1/gateways/{id}/alerts`, published by one paho client as fast as the broker takes
    them and stored by one `manage.py mqtt_consume` (no Celery worker running, as for figure 1);
    messages stored per second, next to the broker's raw QoS 1 pub/sub rate measured in the same
    run on the same broker (a paho publisher and a paho subscriber, the same messages, nothing
    stored). Target: ingest >= 0.5x raw.
12. End to end at 50 alerts/s: time from the publish to the work order committed
    (`Alert.processed_at`) with the Celery workers running. Target: p95 <= 250 ms.

The broker is a private Mosquitto on loopback (anonymous, persistence on, as production keeps
the consumer's queue across restarts; `max_inflight_messages` raised from Mosquitto's 20 as
docs/mqtt.md has a deployment do, since the consumer acknowledges a batch only after its
commit and the broker would otherwise cap a batch at 20 messages; the raw pub/sub rate is
measured on the same broker).

The consumer stores what is waiting on its connection in batches (up to 500 messages, one
transaction, one ingest call per gateway and channel, PUBACKs after the commit): figure 11's
burst is stored in a few batches of hundreds, figure 12's 50 alerts/s one message at a time.
Measured (--quick, 500 alerts, on a 2-core machine shared with other test runs), back to back:
one message per transaction 201 stored/s against a raw 13,407/s (0.015x), p95 174 ms; with
batches 2,727/s against 15,644/s (0.17x), p95 110 ms. Over 15 runs under varying load, with
batches 1,240 to 3,990 stored/s (0.12x to 0.41x of raw), before 96 to 240/s; a full run with
batches 2,504/s against 8,069/s (0.31x). Most of a batch's time is the shared alerts ingest
(one INSERT of the batch's alerts) and the body schema. Figure 12 is bound by the Celery worker
(the consumer stores each alert as it arrives): under heavy load it reached seconds with or
without batches.
"""

import getpass
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as paho

from bench.load import percentile, wait_for
from bench.stack import ROOT, free_port

TOPIC = "cmms/v1/gateways/{gateway_id}/alerts"
USERNAME, PASSWORD = "bench", "bench-password"
RAW_TOPIC = "bench/raw"
LATENCY_RATE = 50
# Mosquitto sends a client at most this many unacknowledged QoS 1 messages (default 20); the
# consumer acknowledges a batch after its commit, so this bounds its batches (docs/mqtt.md).
MAX_INFLIGHT = 1000


class Broker:
    """A private Mosquitto for the benchmark, on a free port in a temporary directory."""

    def __init__(self):
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="cmms-bench-mosquitto-"))
        self.process = None

    def __enter__(self):
        # Authenticated like production (MQTT_URL names the system's account); one account
        # for every client here: access control is measured by the tests, not the benchmark.
        passwords = self.dir / "passwords"
        subprocess.run(
            [
                *(shutil.which("mosquitto_passwd") or "mosquitto_passwd", "-b", "-c"),
                *(str(passwords), USERNAME, PASSWORD),
            ],
            check=True,
            capture_output=True,
            timeout=30,
        )
        config = self.dir / "mosquitto.conf"
        config.write_text(
            f"user {getpass.getuser()}\n"
            f"listener {self.port} 127.0.0.1\nallow_anonymous false\n"
            f"password_file {passwords}\npersistence true\n"
            f"persistence_location {self.dir}/\nmax_queued_messages 1000000\n"
            f"max_inflight_messages {MAX_INFLIGHT}\n"
        )
        self.process = subprocess.Popen(
            [shutil.which("mosquitto") or "mosquitto", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the benchmark's mosquitto did not start")

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"mqtt://{USERNAME}:{PASSWORD}@127.0.0.1:{self.port}"

    def client(self, name: str, **kwargs) -> paho.Client:
        client = paho.Client(client_id=f"{name}-{uuid.uuid4().hex[:6]}", **kwargs)
        client.username_pw_set(USERNAME, PASSWORD)
        client.max_inflight_messages_set(100)
        client.max_queued_messages_set(0)
        client.connect("127.0.0.1", self.port, keepalive=30)
        client.loop_start()
        return client


def alert_message(prefix: str, n: int, **fields) -> bytes:
    return json.dumps(
        {
            "alert_id": f"{prefix}-{n}",
            "asset": f"P-{n % 500:04d}",
            "condition": f"mqtt.c{n % 1000}",
            "severity": "warning",
            "observed_at": "2026-01-01T00:00:00Z",
            "value": 9.5,
            "threshold": 7.1,
            "unit": "mm/s",
            **fields,
        }
    ).encode()


def raw_pubsub(broker: Broker, count: int) -> dict:
    """The broker's own QoS 1 pub/sub rate: publish `count` messages, count them received."""
    received, done = [0], threading.Event()

    def on_message(client, userdata, message):
        received[0] += 1
        if received[0] == count:
            done.set()

    subscribed = threading.Event()
    subscriber = broker.client("bench-raw-sub", clean_session=False)
    subscriber.on_message = on_message
    subscriber.on_subscribe = lambda *args: subscribed.set()
    subscriber.subscribe(RAW_TOPIC, qos=1)
    subscribed.wait(10)
    publisher = broker.client("bench-raw-pub")
    payloads = [alert_message("raw", n) for n in range(count)]
    start = time.monotonic()
    for payload in payloads:
        publisher.publish(RAW_TOPIC, payload, qos=1)
    done.wait(300)
    seconds = time.monotonic() - start
    for client in (publisher, subscriber):
        client.disconnect()
        client.loop_stop()
    return {
        "messages": count,
        "received": received[0],
        "seconds": round(seconds, 3),
        "messages_per_s": round(received[0] / seconds, 1),
    }


def consumer_online(broker: Broker, stack) -> None:
    """Start `mqtt_consume` and wait for its online STATE (it is then subscribed)."""
    online = threading.Event()
    watcher = broker.client("bench-state")
    watcher.on_message = lambda c, u, m: json.loads(m.payload).get("online") and online.set()
    watcher.subscribe("spBv1.0/STATE/#", qos=1)
    stack.env["MQTT_URL"] = broker.url
    stack.env["MQTT_CLIENT_ID"] = "bench-consumer"
    stack._spawn("mqtt-consumer", [sys.executable, "manage.py", "mqtt_consume"])
    if not online.wait(60):
        raise RuntimeError("mqtt_consume did not come online; see bench/results/logs")
    watcher.disconnect()
    watcher.loop_stop()


def ingest(broker: Broker, gateway_id: str, count: int) -> dict:
    """Publish `count` alerts as fast as the broker takes them; time until all are stored."""
    from alerts.models import Alert

    publisher = broker.client("bench-gateway")
    topic = TOPIC.format(gateway_id=gateway_id)
    payloads = [alert_message("mq", n) for n in range(count)]
    start = time.monotonic()
    for payload in payloads:
        publisher.publish(topic, payload, qos=1)
    wait_for(
        lambda: Alert.objects.filter(alert_id__startswith="mq-").count() >= count,
        timeout=600,
        what="the MQTT alerts to be stored",
    )
    seconds = time.monotonic() - start
    publisher.disconnect()
    publisher.loop_stop()
    return {
        "messages": count,
        "stored": Alert.objects.filter(alert_id__startswith="mq-").count(),
        "seconds": round(seconds, 3),
        "messages_per_s": round(count / seconds, 1),
    }


def latency(broker: Broker, gateway_id: str, seconds: int) -> dict:
    """A steady 50 alerts/s (critical: each opens a work order); publish -> work order."""
    from alerts.models import Alert

    publisher = broker.client("bench-gateway-latency")
    topic = TOPIC.format(gateway_id=gateway_id)
    sent: dict[str, float] = {}
    count = LATENCY_RATE * seconds
    next_at = time.monotonic()
    for n in range(count):
        next_at += 1 / LATENCY_RATE
        time.sleep(max(0.0, next_at - time.monotonic()))
        sent[f"mqlat-{n}"] = time.time()
        publisher.publish(topic, alert_message("mqlat", n, severity="critical"), qos=1)
    wait_for(
        lambda: (
            Alert.objects.filter(alert_id__startswith="mqlat-", processed_at__isnull=False).count()
            == count
        ),
        timeout=300,
        what="the MQTT latency alerts to be processed",
    )
    publisher.disconnect()
    publisher.loop_stop()
    processed = dict(
        Alert.objects.filter(alert_id__startswith="mqlat-").values_list("alert_id", "processed_at")
    )
    latencies = sorted(
        (processed[aid].timestamp() - t0) * 1000 for aid, t0 in sent.items() if processed.get(aid)
    )
    return {
        "rate_per_s": LATENCY_RATE,
        "alerts": count,
        "processed": len(latencies),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "target": "p95 <= 250 ms",
    }


def mqtt_figure(stack, plant, scale, *, settle) -> dict:
    """11 and 12 on one broker; the consumer runs for both, the workers only for 12."""
    if shutil.which("mosquitto") is None:
        raise RuntimeError("the mqtt stage needs mosquitto on PATH")
    count = scale["mqtt_alerts"]
    with Broker() as broker:
        raw = raw_pubsub(broker, count)
        consumer_online(broker, stack)
        try:
            stored = ingest(broker, plant["gateway_id"], count)
            stack.start_workers()
            settle(stack)
            lat = latency(broker, plant["gateway_id"], scale["latency_seconds"])
        finally:
            stack.stop("mqtt-consumer")
            stack.stop("worker")
            stack.stop("worker-default")
    return {
        "ingest": {
            "raw_pubsub": raw,
            "consumer": stored,
            "ratio_to_raw": round(stored["messages_per_s"] / raw["messages_per_s"], 3),
            "target": "MQTT ingest >= 50% of the broker's raw QoS 1 pub/sub",
        },
        "latency": lat,
    }


if __name__ == "__main__":  # pragma: no cover
    sys.exit(f"run it as a stage: python -m bench --only mqtt (from {ROOT})")
