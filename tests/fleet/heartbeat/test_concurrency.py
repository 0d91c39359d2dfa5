"""Concurrent heartbeats of one gateway are stored one after the other (its row is the lock):
each new sensor is registered once and the cap holds, with real connections."""

import json
import threading

import pytest
from django.db import connection
from django.test import Client

from fleet import heartbeat as ingest_module
from gateways.models import Sensor
from tests.webhooks import signed_headers

THREADS = 8

pytestmark = pytest.mark.postgresql(reason="concurrent writers need PostgreSQL")


def deliver_concurrently(hook, payloads):
    """POST each payload from its own thread and database connection, all at once."""
    barrier = threading.Barrier(len(payloads))
    answers = [None] * len(payloads)

    def deliver(index, payload):
        try:
            body = json.dumps(payload)
            headers = signed_headers(hook.secret, body)
            client = Client()
            barrier.wait(timeout=10)
            answers[index] = client.post(
                hook.url, data=body, content_type="application/json", headers=headers
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(i, p)) for i, p in enumerate(payloads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


@pytest.mark.django_db(transaction=True)
def test_overlapping_new_sensors_from_concurrent_heartbeats_are_registered_once(heartbeat_hook):
    payloads = [
        {"sensors": [{"id": f"s-{i + j}", "battery_percent": 50} for j in range(10)]}
        for i in range(THREADS)
    ]

    answers = deliver_concurrently(heartbeat_hook, payloads)

    assert [a.status_code for a in answers] == [202] * THREADS
    expected = {f"s-{n}" for n in range(THREADS + 9)}
    codes = list(
        Sensor.objects.filter(gateway=heartbeat_hook.gateway).values_list("code", flat=True)
    )
    assert sorted(codes) == sorted(expected)
    counts = [a.json()["sensors"] for a in answers]
    assert sum(c["registered"] for c in counts) == len(expected)
    assert sum(c["updated"] for c in counts) == THREADS * 10 - len(expected)


@pytest.mark.django_db(transaction=True)
def test_concurrent_heartbeats_never_register_more_than_the_cap(heartbeat_hook, monkeypatch):
    monkeypatch.setattr(ingest_module, "MAX_SENSORS_PER_GATEWAY", 10)
    payloads = [{"sensors": [{"id": f"t{i}-{j}"} for j in range(5)]} for i in range(THREADS)]

    answers = deliver_concurrently(heartbeat_hook, payloads)

    assert [a.status_code for a in answers] == [202] * THREADS
    assert Sensor.objects.filter(gateway=heartbeat_hook.gateway).count() == 10
    counts = [a.json()["sensors"] for a in answers]
    assert sum(c["registered"] for c in counts) == 10
    assert sum(c["ignored"] for c in counts) == THREADS * 5 - 10
