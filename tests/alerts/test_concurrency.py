import json
import threading

import pytest
from django.db import connection
from django.test import Client

from alerts.models import Alert
from tests.webhooks import alert, signed_headers

THREADS = 8

# SQLite (the demo) serialises writers and answers 503 "database is locked"; the guarantee
# under real concurrency is PostgreSQL's.
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


@pytest.fixture
def no_processing(monkeypatch):
    """Keep the pipeline out of these tests: they are about storing, not processing."""
    monkeypatch.setattr("alerts.processing.alert_process", lambda *, alert_id: None)


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_one_alert_store_exactly_one_row(hook, no_processing):
    answers = deliver_concurrently(hook, [alert("a-1")] * THREADS)

    assert [a.status_code for a in answers] == [202] * THREADS
    statuses = sorted(a.json()["results"][0]["status"] for a in answers)
    assert statuses == ["accepted"] + ["duplicate"] * (THREADS - 1)
    assert Alert.objects.count() == 1
    assert {a.json()["results"][0]["id"] for a in answers} == {Alert.objects.get().pk}


@pytest.mark.django_db(transaction=True)
def test_concurrent_overlapping_batches_store_each_alert_once(hook, no_processing):
    batches = [{"alerts": [alert(f"a-{i + j}") for j in range(20)]} for i in range(THREADS)]

    answers = deliver_concurrently(hook, batches)

    assert {a.status_code for a in answers} == {202}
    expected = {f"a-{n}" for n in range(THREADS + 19)}
    assert set(Alert.objects.values_list("alert_id", flat=True)) == expected
    assert Alert.objects.count() == len(expected)
    accepted = sum(a.json()["accepted"] for a in answers)
    duplicates = sum(a.json()["duplicates"] for a in answers)
    assert (accepted, duplicates) == (len(expected), THREADS * 20 - len(expected))


@pytest.mark.django_db(transaction=True)
def test_concurrent_conflicting_deliveries_keep_one_original(hook, no_processing):
    payloads = [alert("a-1", value=float(i)) for i in range(THREADS)]

    answers = deliver_concurrently(hook, payloads)

    statuses = sorted(a.json()["results"][0]["status"] for a in answers)
    assert statuses == ["accepted"] + ["conflict"] * (THREADS - 1)
    winner = next(i for i, a in enumerate(answers) if a.json()["accepted"] == 1)
    assert Alert.objects.get().value == float(winner)
