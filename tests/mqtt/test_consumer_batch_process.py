"""A batch's PUBACKs leave only after its COMMIT, with the real `manage.py mqtt_consume`: the
test holds a row lock the batch's transaction waits for, SIGKILLs the consumer there, and the
broker redelivers every message of that batch to the next run, each stored once."""

import time

import psycopg
import pytest

from alerts.models import Alert
from gateways.models import Gateway
from mqtt.models import RejectedMessage
from tests import workers
from tests.mqtt.test_consumer_process import alert, plant, started  # noqa: F401 (a fixture)
from tests.workers import wait_until

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("real_clock"),
]

MESSAGES = 12


def _waiting_for_a_lock(holder: psycopg.Connection) -> bool:
    """Whether a session (the consumer's) waits for a lock `holder` holds. (Asked on a
    connection of its own: a transaction sees one snapshot of pg_stat_activity.)"""
    with psycopg.connect(workers.test_database_url(), autocommit=True) as watcher:
        row = watcher.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
            [holder.info.backend_pid],
        ).fetchone()
    return row[0] > 0


def test_a_batch_killed_before_its_commit_is_redelivered_whole_and_stored_once(
    plant,  # noqa: F811 (the fixture imported above)
):
    client, gateway, consumer = plant["client"], plant["gateway"], plant["consumer"]
    Gateway.objects.filter(pk=gateway.pk).update(last_seen_at=None)  # the batch will touch it

    # A first run subscribes the persistent session; what is published while the consumer is
    # away then arrives at once on its next connection: one batch.
    started(consumer, client)
    assert consumer.stop() == 0
    for n in range(MESSAGES):
        client.publish("alerts", alert(n, severity="loud") if n == 5 else alert(n))

    with psycopg.connect(workers.test_database_url()) as database:
        table = Gateway._meta.db_table
        database.execute(f"SELECT id FROM {table} WHERE id = %s FOR UPDATE", [gateway.pk])
        consumer.start()
        try:
            # The queued messages arrive right after the CONNACK: the batch inserts its alerts
            # and waits, uncommitted, to touch the gateway (before its online STATE is sent).
            wait_until(lambda: _waiting_for_a_lock(database), timeout=20, message=consumer.output)
        finally:
            consumer.kill()
            database.rollback()

    assert not Alert.objects.exists()
    assert not RejectedMessage.objects.exists()

    started(consumer, client)
    try:
        wait_until(
            lambda: Alert.objects.count() == MESSAGES - 1 and RejectedMessage.objects.exists(),
            timeout=30,
            message=consumer.output,
        )
        time.sleep(0.5)  # nothing more comes: each message was stored once
    finally:
        consumer.kill()
    assert Alert.objects.values("alert_id").distinct().count() == MESSAGES - 1
    assert "vib-5" not in set(Alert.objects.values_list("alert_id", flat=True))
    rejected = RejectedMessage.objects.get()
    assert rejected.reason == "item 0 severity: Must be one of critical, major, minor, warning."
    assert Gateway.objects.get(pk=gateway.pk).last_seen_at is not None
