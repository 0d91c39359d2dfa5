"""Fault injection on real services and processes: a private PostgreSQL restarted mid-stream,
the private Redis broker restarted during processing, a worker SIGKILLed mid-batch. The
gateways keep sending (retrying what was refused, as real gateways do); at the end an exact
reconciliation: every accepted alert processed exactly once, one work order, nothing lost.

Runs against its own PostgreSQL cluster and Redis (never the shared ones), with gunicorn
serving the webhook and `celery worker` processing, all as subprocesses.
"""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from datetime import UTC, datetime

import psycopg
import pytest
from standardwebhooks.webhooks import Webhook

from tests.workers import ROOT, PostgresServer, RedisServer, Worker, free_port, wait_until

# Real processes keep the machine's clock (tests.clock).
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("real_clock")]

BATCHES, PER_BATCH = 16, 50
SEED = """
from gateways.services import gateway_create
from assets.services import asset_create
from tests.factories import SiteFactory, TechnicianFactory, EquipmentClassFactory
site = SiteFactory()
asset_create(site=site, tag="P-101", name="Pump", equipment_class=EquipmentClassFactory())
TechnicianFactory(sites=[site])
gateway, secret = gateway_create(site=site, name="edge", rate_limit_per_minute=100000)
print("SEED", gateway.pk, secret)
"""
SWEEP = """
from datetime import timedelta
from django.utils import timezone
from alerts.sweeping import alerts_sweep
print("SWEPT", alerts_sweep(now=timezone.now() + timedelta(hours=1), grace_seconds=0))
"""


class Stack:
    """gunicorn + celery worker + private PostgreSQL + private Redis."""

    def __init__(self):
        self.pg = PostgresServer().init()
        self.redis = RedisServer().start()
        self.port = free_port()
        self.env = {
            **os.environ,
            "DATABASE_URL": self.pg.url,
            "CELERY_BROKER_URL": self.redis.url,
            "DEBUG": "1",
            "LOG_LEVEL": "WARNING",
        }
        self.manage("migrate", "--no-input")
        out = self.manage("shell", "-c", SEED)
        _, self.gateway_id, self.secret = next(
            line for line in out.splitlines() if line.startswith("SEED ")
        ).split()
        self.web = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "cmms.wsgi", "-b", f"127.0.0.1:{self.port}",
             "-w", "2", "--timeout", "60"],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until(self._healthy, timeout=60, message="gunicorn did not start")
        self.worker = Worker(self.redis.url, database_url=self.pg.url).start()

    def manage(self, *args) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout

    def _healthy(self):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2):
                return True
        except OSError:
            return False

    def post(self, alerts: list[dict]):
        """One signed delivery; returns (status, Retry-After header)."""
        body = json.dumps({"alerts": alerts})
        msg_id = f"msg_{uuid.uuid4().hex}"
        now = datetime.now(tz=UTC)
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/hooks/v1/gateways/{self.gateway_id}/alerts",
            data=body.encode(),
            method="POST",
            headers={
                "Content-Type": "application/json",
                "webhook-id": msg_id,
                "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": Webhook(self.secret).sign(msg_id, now, body),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read()), None
        except urllib.error.HTTPError as error:
            return error.code, None, error.headers.get("Retry-After")

    def query(self, sql: str):
        with psycopg.connect(self.pg.url.replace("postgres://", "postgresql://")) as conn:
            return conn.execute(sql).fetchall()

    def close(self):
        self.worker.kill()
        self.web.kill()
        self.web.wait(timeout=10)
        self.redis.stop()
        self.pg.destroy()


@pytest.fixture
def stack():
    if not PostgresServer.available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL binaries (initdb, pg_ctl) are required in CI")
        pytest.skip("PostgreSQL server binaries are not installed")
    stack = Stack()
    yield stack
    stack.close()


def alert(n: int, condition: str = "vibration.high") -> dict:
    return {
        "alert_id": f"vib-{n}",
        "asset": "P-101",
        "condition": condition,
        "severity": "major",
        "observed_at": datetime.now(tz=UTC).isoformat(),
        "value": 9.5,
    }


def deliver(stack, batch: int, statuses: Counter, accepted: set, *, distinct=False):
    """Send a batch until it is stored, retrying refusals as a gateway would (bounded).
    `distinct`: each alert its own condition (its own work order), so processing is slow
    enough to be interrupted."""
    numbers = [batch * PER_BATCH + i for i in range(PER_BATCH)]
    alerts = [alert(n, f"temperature.point{n}" if distinct else "vibration.high") for n in numbers]
    for _ in range(120):
        status, body, retry_after = stack.post(alerts)
        statuses[status] += 1
        if status == 202:
            for result in body["results"]:
                if result["status"] in ("accepted", "duplicate"):
                    accepted.add(result["alert_id"])
            return
        assert status == 503, f"batch {batch} answered {status}"
        assert retry_after == "5"
        time.sleep(0.5)
    raise AssertionError(f"batch {batch} was never accepted")


def test_postgres_restart_redis_restart_and_a_killed_worker_lose_and_duplicate_nothing(stack):
    statuses: Counter = Counter()
    accepted: set[str] = set()
    faults = []

    for batch in range(3):
        deliver(stack, batch, statuses, accepted)

    # 1. PostgreSQL restarted mid-stream: deliveries while it is down answer 503, never 500.
    stack.pg.stop("fast")
    status, _, retry_after = stack.post([alert(10_000)])
    assert (status, retry_after) == (503, "5")
    statuses[status] += 1
    stack.pg.start()
    faults.append("postgresql restarted")
    for batch in range(3, 6):
        deliver(stack, batch, statuses, accepted)

    # 2. Redis restarted during processing: queued messages are gone (no persistence).
    stack.redis.stop()
    deliver(stack, 6, statuses, accepted)  # stored; its enqueue fails, the sweeper covers it
    stack.redis.start()
    faults.append("redis restarted")
    for batch in range(7, 9):
        deliver(stack, batch, statuses, accepted)

    # 3. The worker SIGKILLed mid-batch: the last batches arrive (one condition per alert, so
    # one work order each), then it dies in their midst.
    processed = "select count(*) from alerts_alert where status='processed'"
    wait_until(lambda: stack.query(processed)[0][0] == 9 * PER_BATCH, timeout=120, interval=0.2)
    for batch in range(9, BATCHES):
        deliver(stack, batch, statuses, accepted, distinct=True)
    wait_until(
        lambda: stack.query(processed)[0][0] >= 9 * PER_BATCH + 20,
        timeout=120,
        interval=0.02,
        message=stack.worker.output,
    )
    stack.worker.kill()
    left = stack.query("select count(*) from alerts_alert where status <> 'processed'")[0][0]
    assert left > 0, "the worker finished before it was killed; nothing was tested"
    faults.append(f"worker SIGKILLed with {left} alerts unprocessed")
    stack.worker = Worker(stack.redis.url, database_url=stack.pg.url).start()

    # The sweeper re-enqueues whatever the faults left behind, until all is processed.
    expected = BATCHES * PER_BATCH

    def settled():
        done = stack.query("select count(*) from alerts_alert where status='processed'")[0][0]
        if done < expected:
            stack.manage("shell", "-c", SWEEP)
        return done == expected

    wait_until(settled, timeout=300, interval=2, message=stack.worker.output)

    # Exact reconciliation.
    assert statuses[500] == 0
    assert statuses[503] >= 1
    assert len(accepted) == expected
    rows = stack.query("select alert_id, status, work_order_id from alerts_alert")
    assert sorted(r[0] for r in rows) == sorted(accepted)  # nothing lost, nothing extra
    assert {r[1] for r in rows} == {"processed"}
    # One work order per condition (no duplicate), each counting its alerts exactly once.
    work_orders = stack.query(
        "select w.id, w.alert_count, count(a.id), min(a.condition), count(distinct a.condition)"
        " from workorders_workorder w join alerts_alert a on a.work_order_id = w.id"
        " group by w.id"
    )
    distinct_batches = BATCHES - 9
    assert len(work_orders) == 1 + distinct_batches * PER_BATCH
    assert all(row[1] == row[2] and row[4] == 1 for row in work_orders), work_orders
    vibration = [row for row in work_orders if row[3] == "vibration.high"]
    assert [row[1] for row in vibration] == [9 * PER_BATCH]
    assert sum(row[2] for row in work_orders) == expected
    assert stack.query("select count(*) from workorders_workorder")[0][0] == len(work_orders)
    print(
        f"\nfaults injected: {'; '.join(faults)}; deliveries {dict(statuses)}; "
        f"{expected} alerts accepted and processed exactly once; {len(work_orders)} work "
        f"orders, one per condition, alert counts reconciled"
    )
