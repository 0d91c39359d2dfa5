"""The access sync in a real Celery worker: queued on commit through a real Redis, retried
while the broker is down, applied once it is back."""

import paho.mqtt.client as mqtt
import pytest

from gateways import services as gateway_services
from tests.factories import SiteFactory
from tests.workers import RedisServer, Worker, publishing_to, wait_until

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgresql(reason="the worker process reads the committed test database"),
    pytest.mark.django_db(transaction=True),
]


def connack(port: int, username: str, password: str) -> int | None:
    client = mqtt.Client(f"probe-{username[:8]}", clean_session=True, reconnect_on_failure=False)
    client.username_pw_set(username, password)
    codes = []
    client.on_connect = lambda c, u, flags, rc: codes.append(rc)
    try:
        client.connect("127.0.0.1", port, keepalive=10)
    except OSError:
        return None
    for _ in range(50):
        client.loop(timeout=0.1)
        if codes:
            break
    client.disconnect()
    return codes[0] if codes else None


def test_a_worker_retries_the_sync_while_the_broker_is_down(
    mosquitto, settings, monkeypatch, real_clock
):
    settings.MQTT_URL = mosquitto.url
    monkeypatch.setenv("MQTT_URL", mosquitto.url)  # the worker's settings
    redis_server = RedisServer().start()
    worker = Worker(redis_server.url, concurrency=1, queues="default").start()
    try:
        mosquitto.stop()
        with publishing_to(redis_server.url):
            gateway, secret = gateway_services.gateway_create(site=SiteFactory(), name="G")

        retrying = f"Broker access of gateway {gateway.pk} not synced, retrying"
        wait_until(lambda: retrying in worker.output(), timeout=30, message=worker.output)
        mosquitto.start()

        wait_until(
            lambda: connack(mosquitto.port, str(gateway.pk), secret) == mqtt.CONNACK_ACCEPTED,
            timeout=30,
            interval=0.2,
            message=worker.output,
        )
        assert secret not in worker.output()
    finally:
        worker.stop()
        redis_server.stop()
