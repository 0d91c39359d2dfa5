"""The pipeline end to end with real Celery worker processes and a real Redis broker.

Alerts go through the real signed webhook; workers are `celery worker` subprocesses on the
test database. Each test has its own redis-server, so stopping it harms nobody else.
"""

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from alerts.models import Alert
from alerts.sweeping import alerts_sweep
from pipeline.models import AlertRule
from tests.factories import (
    AssetFactory,
    EquipmentClassFactory,
    PartFactory,
    SiteFactory,
    StockFactory,
    StoreroomFactory,
    TechnicianFactory,
    gateway_with_secret,
)
from tests.workers import RedisServer, Worker, publishing_to, wait_until
from workorders.choices import Status
from workorders.job_plans import job_plan_save
from workorders.models import PartReservation, WorkOrder

# Real worker processes keep the machine's clock (tests.clock).
pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("real_clock"),
]


@pytest.fixture
def broker():
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def plant():
    site = SiteFactory(timezone="America/Chicago")
    pump = AssetFactory(site=site, tag="P-101", equipment_class=EquipmentClassFactory(code="pump"))
    gateway, secret = gateway_with_secret(site=site)
    tech = TechnicianFactory(sites=[site], skills=["vibration"])
    return {"site": site, "pump": pump, "gateway": gateway, "secret": secret, "tech": tech}


def post_alerts(plant, alerts: list[dict]):
    body = json.dumps({"alerts": alerts} if len(alerts) > 1 else alerts[0])
    msg_id = f"msg_{uuid.uuid4().hex}"
    signature = Webhook(plant["secret"]).sign(msg_id, datetime.now(tz=UTC), body)
    response = Client().post(
        f"/hooks/v1/gateways/{plant['gateway'].pk}/alerts",
        data=body,
        content_type="application/json",
        headers={
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(datetime.now(tz=UTC).timestamp())),
            "webhook-signature": signature,
        },
    )
    assert response.status_code == 202, response.content
    return response.json()


def alert(n: int, **fields) -> dict:
    data = {
        "alert_id": f"vib-{n}",
        "asset": "P-101",
        "condition": "vibration.high",
        "severity": "major",
        "observed_at": timezone.now().isoformat(),
        "value": 9.5,
        "threshold": 7.1,
        "unit": "mm/s",
    }
    data.update(fields)
    return data


def all_processed(expected: int):
    return lambda: Alert.objects.filter(status="processed").count() == expected


def swept_until(done, every: float = 5.0):
    """`done`, with the alerts sweeper run first and then every `every` seconds meanwhile."""
    last = [float("-inf")]

    def check():
        if time.monotonic() - last[0] >= every:
            alerts_sweep(grace_seconds=0, limit=1000)
            last[0] = time.monotonic()
        return done()

    return check


def test_an_alert_becomes_a_scheduled_assigned_work_order_with_parts_reserved(plant, broker):
    stock = StockFactory(
        part=PartFactory(sku="BRG-6205"), storeroom=StoreroomFactory(site=plant["site"]), on_hand=5
    )
    plan = job_plan_save(
        code="vib",
        title="Vibration check",
        estimated_hours=Decimal("2"),
        required_skill=plant["tech"].skills.get(),
        steps=["Measure", "Replace bearing"],
        parts=[(stock.part, Decimal("2"))],
    )
    AlertRule.objects.create(
        name="pump vibration",
        site=plant["site"],
        equipment_class=plant["pump"].equipment_class,
        condition_pattern="vibration.*",
        job_plan=plan,
        response_critical=timedelta(hours=4),
    )
    observed = timezone.now().replace(microsecond=0)
    worker = Worker(broker.url).start()
    try:
        with publishing_to(broker.url):
            answer = post_alerts(
                plant, [alert(1, severity="critical", observed_at=observed.isoformat())]
            )
        assert answer["accepted"] == 1
        wait_until(all_processed(1), timeout=60, message=worker.output)
    finally:
        worker.stop()
    wo = WorkOrder.objects.get()
    assert (wo.status, wo.priority, wo.assignee, wo.source) == (
        Status.SCHEDULED,
        1,
        plant["tech"],
        "alert",
    )
    assert wo.due_at == observed + timedelta(hours=4)
    assert wo.steps.count() == 2
    assert PartReservation.objects.get(work_order=wo).quantity == Decimal("2")
    stock.refresh_from_db()
    assert stock.reserved == Decimal("2")


def test_concurrent_workers_open_one_work_order_and_link_every_alert(plant, broker):
    workers = [Worker(broker.url, concurrency=2).start() for _ in range(2)]
    try:
        with publishing_to(broker.url):
            for batch in range(4):
                post_alerts(plant, [alert(batch * 50 + i) for i in range(50)])
        wait_until(all_processed(200), timeout=120, message=workers[0].output)
    finally:
        for w in workers:
            w.stop()
    wo = WorkOrder.objects.get()
    assert wo.alert_count == 200
    assert Alert.objects.filter(work_order=wo).count() == 200


def test_a_worker_killed_mid_stream_leaves_nothing_stuck_or_duplicated(plant, broker):
    """300 conditions, two alerts each: SIGKILL the worker while it opens work orders."""
    worker = Worker(broker.url).start()
    with publishing_to(broker.url):
        for batch in range(6):
            post_alerts(
                plant,
                [
                    alert(batch * 100 + i, condition=f"vibration.c{(batch % 3) * 100 + i}")
                    for i in range(100)
                ],
            )
        wait_until(
            lambda: Alert.objects.filter(status="processed").count() >= 20,
            timeout=60,
            message=worker.output,
        )
        worker.kill()
        left = Alert.objects.filter(status="received").count()
        assert left > 0, "the worker finished before it was killed; nothing was tested"
        worker = Worker(broker.url).start()
        try:
            # As beat does: sweep again while waiting. A killed worker's database session can
            # still hold an alert's row lock for a moment after the kill, so the first sweep's
            # message for it may be skipped by the new worker; a later sweep sends it again.
            wait_until(swept_until(all_processed(600)), timeout=180, message=worker.output)
        finally:
            worker.stop()
    assert WorkOrder.objects.count() == 300
    counts = list(WorkOrder.objects.values_list("condition", "alert_count"))
    assert len({condition for condition, _ in counts}) == 300
    assert {count for _, count in counts} == {2}
    assert not Alert.objects.filter(work_order__isnull=True).exists()


def test_redis_restarted_mid_stream_loses_nothing(plant, broker):
    worker = Worker(broker.url).start()
    try:
        with publishing_to(broker.url):
            post_alerts(plant, [alert(i) for i in range(100)])
            broker.stop()  # everything queued in Redis is gone: it keeps nothing on disk
            answer = post_alerts(plant, [alert(100 + i) for i in range(100)])
            assert answer["accepted"] == 100
            broker.start()
            alerts_sweep(grace_seconds=0, limit=1000)
            wait_until(all_processed(200), timeout=120, message=worker.output)
    finally:
        worker.stop()
    wo = WorkOrder.objects.get()
    assert wo.alert_count == 200
    assert not Alert.objects.exclude(status="processed").exists()


def worker_backends() -> set[tuple[int, datetime]]:
    """The other client sessions on the test database (not autovacuum): (pid, backend_start)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, backend_start FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        )
        return set(cursor.fetchall())


def test_a_worker_reuses_its_database_connection_across_tasks(plant, broker):
    """Celery's Django fixup would reconnect for every task; DB_CONN_MAX_AGE rules instead."""
    worker = Worker(broker.url, concurrency=1).start()
    try:
        with publishing_to(broker.url):
            post_alerts(plant, [alert(0, condition="temp.high.0")])
        wait_until(all_processed(1), timeout=60, message=worker.output)
        after_first = worker_backends()
        with publishing_to(broker.url):
            for n in range(1, 11):  # one message, one task each
                post_alerts(plant, [alert(n, condition=f"temp.high.{n}")])
        wait_until(all_processed(11), timeout=60, message=worker.output)
        after_all = worker_backends()
    finally:
        worker.stop()
    assert len(after_first) == 1, after_first  # the worker's connection stays open...
    assert after_all == after_first  # ...and the next ten tasks ran on that same connection
    assert WorkOrder.objects.count() == 11
