"""End-to-end pipeline benchmarks on the real stack (gunicorn + Celery + PostgreSQL + Redis).

    .venv/bin/python -m bench.pipeline [--quick]

1. Latency: a steady 50 alerts/s (each opens a work order); per alert, the time from sending
   the webhook request to the work order being committed (alert.processed_at), p50/p95/p99.
2. Storm: 10,000 alerts for one asset and condition from 8 concurrent senders: time to drain,
   work orders created (must be 1), alerts lost (must be 0).
"""

import argparse
import json
import os
import time
from datetime import UTC, datetime

from bench.load import Sender, Signer, alert_body, percentile, run_senders
from bench.stack import Stack

ASSETS = 500


def setup_django(stack: Stack):
    os.environ.update(stack.env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cmms.settings")
    import django

    django.setup()


def load_plant():
    """A site with ASSETS pumps, a technician and a gateway; returns (gateway, secret)."""
    from accounts.choices import Role
    from accounts.models import User
    from alerts.services import gateway_create
    from assets.models import Asset, Customer, Site

    site = Site.objects.create(
        customer=Customer.objects.create(name="Bench"), code="bench", name="Bench plant"
    )
    Asset.objects.bulk_create(
        Asset(site=site, tag=f"P-{n:04d}", name=f"Pump {n}") for n in range(ASSETS)
    )
    for asset in Asset.objects.filter(site=site):
        asset.path = f"/{asset.pk}/"
    Asset.objects.bulk_update(Asset.objects.filter(site=site), ["path"])
    Asset.objects.filter(site=site).update(path=_path_sql())
    tech = User.objects.create_user("bench-tech", email="t@example.com", role=Role.TECHNICIAN)
    tech.sites.add(site)
    gateway, secret = gateway_create(site=site, name="bench", rate_limit_per_minute=10**8)
    return gateway, secret


def _path_sql():
    from django.db.models import CharField, Value
    from django.db.models.functions import Cast, Concat

    return Concat(Value("/"), Cast("id", CharField()), Value("/"))


def alert(alert_id: str, asset: str, condition: str, severity="critical") -> dict:
    return {
        "alert_id": alert_id,
        "asset": asset,
        "condition": condition,
        "severity": severity,
        "observed_at": datetime.now(tz=UTC).isoformat(),
        "value": 12.5,
        "threshold": 7.1,
        "unit": "mm/s",
    }


def wait_drained(expected_ids: set[str] | None = None, *, total: int, timeout: float) -> float:
    from alerts.models import Alert

    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if Alert.objects.filter(status__in=["processed", "recorded"]).count() >= total:
            return time.monotonic()
        time.sleep(0.1)
    raise SystemExit(f"pipeline did not drain {total} alerts within {timeout}s")


def latency(stack: Stack, gateway, secret, *, rate: int, seconds: int) -> dict:
    from alerts.models import Alert

    signer, path = Signer(secret), f"/hooks/v1/gateways/{gateway.pk}/alerts"
    total = rate * seconds
    senders = 4
    sent_at: dict[str, float] = {}
    statuses: list[int] = []
    start = time.perf_counter()

    def send(index: int):
        sender = Sender(stack.url)
        for n in range(index, total, senders):
            due = start + n / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            a = alert(f"lat-{n}", f"P-{n % ASSETS:04d}", f"vibration.c{n // ASSETS}")
            body = alert_body([a])
            status, _, t0 = sender.post(path, body, signer.headers(body))
            statuses.append(status)
            sent_at[a["alert_id"]] = t0

    run_senders(senders, send)
    wait_drained(total=total, timeout=120)
    processed = dict(
        Alert.objects.filter(alert_id__startswith="lat-").values_list("alert_id", "processed_at")
    )
    latencies = [
        (processed[aid].timestamp() - t0) * 1000
        for aid, t0 in sent_at.items()
        if processed.get(aid)
    ]
    return {
        "alerts": total,
        "rate_per_s": rate,
        "non_202": sum(1 for s in statuses if s != 202),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "work_orders": _count_work_orders(),
    }


def _count_work_orders() -> int:
    from workorders.models import WorkOrder

    return WorkOrder.objects.count()


def storm(stack: Stack, gateway, secret, *, alerts: int, senders: int, batch: int) -> dict:
    from alerts.models import Alert
    from workorders.models import WorkOrder

    before_wo = WorkOrder.objects.count()
    before_alerts = Alert.objects.count()
    signer, path = Signer(secret), f"/hooks/v1/gateways/{gateway.pk}/alerts"
    statuses: list[int] = []
    start = time.monotonic()

    def send(index: int):
        sender = Sender(stack.url)
        ids = list(range(index, alerts, senders))
        for i in range(0, len(ids), batch):
            chunk = [
                alert(f"storm-{n}", "P-0000", "storm.vibration", "major")
                for n in ids[i : i + batch]
            ]
            body = alert_body(chunk)
            status, _, _ = sender.post(path, body, signer.headers(body))
            statuses.append(status)

    run_senders(senders, send)
    sent = time.monotonic()
    done = wait_drained(total=before_alerts + alerts, timeout=300)
    stored = Alert.objects.filter(alert_id__startswith="storm-").count()
    storm_wos = WorkOrder.objects.filter(condition="storm.vibration")
    linked = Alert.objects.filter(alert_id__startswith="storm-", work_order__isnull=False).count()
    return {
        "alerts": alerts,
        "senders": senders,
        "alerts_per_request": batch,
        "non_202": sum(1 for s in statuses if s != 202),
        "send_seconds": round(sent - start, 2),
        "drain_seconds": round(done - start, 2),
        "work_orders_created": storm_wos.count(),
        "alert_count_on_work_order": storm_wos.first().alert_count if storm_wos.exists() else 0,
        "alerts_lost": alerts - stored,
        "alerts_unlinked": stored - linked,
        "other_work_orders_created": WorkOrder.objects.count() - before_wo - storm_wos.count(),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small scale, for CI smoke runs")
    parser.add_argument("--storm-batch", type=int, default=1, help="alerts per storm request")
    args = parser.parse_args(argv)
    with Stack() as stack:
        stack.create_database()
        setup_django(stack)
        gateway, secret = load_plant()
        stack.start_web()
        stack.start_worker()
        results = {
            "latency": latency(stack, gateway, secret, rate=50, seconds=4 if args.quick else 30),
            "storm": storm(
                stack,
                gateway,
                secret,
                alerts=1000 if args.quick else 10_000,
                senders=8,
                batch=args.storm_batch,
            ),
        }
    print(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
