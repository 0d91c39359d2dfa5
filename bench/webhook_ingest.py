"""Benchmark the gateway webhook: single alerts per request, and 500-alert batches.

Not a test. Creates a site, assets and a gateway in the database of DATABASE_URL (migrating
it first), then drives the webhook in-process through Django's test client with requests
signed as a gateway would (Standard Webhooks), and prints the rates.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cmms_bench \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/3 DEBUG=0 SECRET_KEY=bench \\
    .venv/bin/python bench/webhook_ingest.py --singles 2000 --batches 40

With CELERY_BROKER_URL set, accepted alerts are really published (one message each) and the
"alerts" queue is emptied at the end; without it, enqueueing is replaced by a no-op so the
in-process (eager) pipeline does not distort the ingest numbers.
"""

import argparse
import json
import os
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cmms.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from alerts import services  # noqa: E402
from alerts.models import Alert  # noqa: E402
from assets import services as asset_services  # noqa: E402
from assets.models import Customer, Site  # noqa: E402
from cmms.celery import app as celery_app  # noqa: E402
from gateways import gateway_secrets, signing  # noqa: E402
from gateways.services import gateway_create  # noqa: E402

ASSETS = 50


def setup():
    call_command("migrate", verbosity=0)
    customer, _ = Customer.objects.get_or_create(name="Bench customer")
    code = f"bench-{uuid.uuid4().hex[:8]}"
    site = Site.objects.create(customer=customer, code=code, name="Bench plant")
    for n in range(ASSETS):
        asset_services.asset_create(site=site, tag=f"B-{n:03d}", name=f"Bench pump {n}")
    gateway, secret = gateway_create(site=site, name="Bench gateway", rate_limit_per_minute=10**9)
    return gateway, gateway_secrets.key_bytes(secret)


def make_alert(run: str, n: int) -> dict:
    return {
        "alert_id": f"{run}-{n}",
        "asset": f"B-{n % ASSETS:03d}",
        "condition": "vibration.high",
        "severity": "major",
        "observed_at": datetime.now(tz=UTC).isoformat(),
        "value": 11.2,
        "unit": "mm/s",
        "threshold": 7.1,
        "attributes": {"axis": "x", "sensor": f"s{n % 7}"},
    }


def post(client, url, key, payload):
    body = json.dumps(payload).encode()
    msg_id = f"msg_{uuid.uuid4().hex}"
    timestamp = int(time.time())
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signing.sign(key=key, msg_id=msg_id, timestamp=timestamp, body=body),
    }
    response = client.post(url, data=body, content_type="application/json", headers=headers)
    if response.status_code != 202:
        raise SystemExit(f"unexpected {response.status_code}: {response.content[:300]!r}")
    return response


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--singles", type=int, default=2000, help="single-alert requests")
    parser.add_argument("--batches", type=int, default=40, help="500-alert batch requests")
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()

    publishing = not celery_app.conf.task_always_eager
    if not publishing:
        services.alerts_dispatch = lambda ids: len(ids)

    gateway, key = setup()
    url = f"/hooks/v1/gateways/{gateway.pk}/alerts"
    client = Client()
    run = uuid.uuid4().hex[:8]
    for n in range(20):  # warm up connections, caches and code paths
        post(client, url, key, make_alert(f"warm{run}", n))
    seconds = measure(client, url, key, run=run, args=args)
    report(seconds, args=args, gateway=gateway, publishing=publishing)


def measure(client, url, key, *, run: str, args) -> dict[str, float]:
    """Seconds taken by the single alerts, the batches, and the batches sent again."""
    started = time.perf_counter()
    for n in range(args.singles):
        post(client, url, key, make_alert(f"s{run}", n))
    singles_s = time.perf_counter() - started

    started = time.perf_counter()
    for b in range(args.batches):
        batch = [make_alert(f"b{run}-{b}", n) for n in range(args.batch_size)]
        post(client, url, key, {"alerts": batch})
    batches_s = time.perf_counter() - started

    dup_started = time.perf_counter()
    for b in range(min(args.batches, 10)):
        batch = [make_alert(f"b{run}-{b}", n) for n in range(args.batch_size)]
        post(client, url, key, {"alerts": batch})
    dup_s = time.perf_counter() - dup_started
    return {"singles": singles_s, "batches": batches_s, "duplicates": dup_s}


def report(seconds: dict[str, float], *, args, gateway, publishing: bool) -> None:
    """Print the rates; empty the "alerts" queue of what was really published."""
    singles_s, batches_s, dup_s = seconds["singles"], seconds["batches"], seconds["duplicates"]
    dup_batches = min(args.batches, 10)
    stored = Alert.objects.filter(gateway=gateway).count()
    from django.db import connection

    print(f"database: {connection.vendor}, publishing to broker: {publishing}")
    print(
        f"single alerts : {args.singles} requests in {singles_s:.2f} s = "
        f"{args.singles / singles_s:,.0f} requests/s"
    )
    total = args.batches * args.batch_size
    print(
        f"{args.batch_size}-alert batches: {args.batches} requests in {batches_s:.2f} s = "
        f"{args.batches / batches_s:,.1f} requests/s = {total / batches_s:,.0f} alerts/s"
    )
    print(
        f"re-delivered batches (all duplicates): {dup_batches * args.batch_size / dup_s:,.0f} "
        "alerts/s"
    )
    print(f"rows stored for the bench gateway: {stored}")
    if publishing:
        with celery_app.connection_for_write() as conn:
            purged = conn.default_channel.queue_purge("alerts") or 0
        print(f"purged {purged} messages from the 'alerts' queue")


if __name__ == "__main__":
    main()
