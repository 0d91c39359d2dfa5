"""`python -m bench [--quick]`: measure the system against its limits on the real stack.

Starts PostgreSQL database `cmms_bench`, gunicorn (production settings, DEBUG=0) and Celery
workers on loopback, loads data with bulk operations, drives the stack from a separate
load-generator process (`bench.loadgen`) and writes `bench/results/latest.json`,
`BENCHMARKS.md` and PNG plots in `bench/results/`. Each figure is reported next to a reference
measured in the same run (a bare Django view, raw psycopg INSERTs, the ingest rate).
The measurements stage (`bench.measurements`) runs in a process of its own on its own database.
"""

import argparse
import json
import os
import platform
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from bench.load import loadgen, percentile, summarize, wait_for
from bench.stack import ROOT, Stack

RESULTS = ROOT / "bench" / "results"
ASSETS = 500


# ---------------------------------------------------------------- helpers


def setup_django(stack: Stack):
    os.environ.update(stack.env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()


def queues_empty(stack) -> bool:
    """No task messages left on the broker (no-op messages for alerts already drained
    included), so the next stage does not queue behind the previous one."""
    import redis

    client = redis.Redis.from_url(stack.env["CELERY_BROKER_URL"])
    return all(client.llen(queue) == 0 for queue in ("alerts", "default", "housekeeping"))


def settle(stack) -> None:
    wait_for(
        lambda: backlog() == 0 and queues_empty(stack), timeout=600, what="the queues to empty"
    )


def backlog() -> int:
    from alerts.models import Alert

    return Alert.objects.filter(status__in=["received", "failed"]).count()


# ---------------------------------------------------------------- data


def load_plant() -> dict:
    """One site with ASSETS pumps, two technicians, a gateway and a raw-insert table."""
    from django.db import connection
    from django.db.models import CharField, Value
    from django.db.models.functions import Cast, Concat

    from accounts.models import User
    from assets.models import Asset, Customer, Site
    from cmms.roles import Role
    from gateways.services import gateway_create

    site = Site.objects.create(
        customer=Customer.objects.create(name="Bench"), code="bench", name="Bench plant"
    )
    Asset.objects.bulk_create(
        Asset(site=site, tag=f"P-{n:04d}", name=f"Pump {n}") for n in range(ASSETS)
    )
    Asset.objects.filter(site=site).update(
        path=Concat(Value("/"), Cast("id", CharField()), Value("/"))
    )
    for i in range(2):
        tech = User.objects.create_user(
            f"bench-tech{i}", email=f"t{i}@example.com", role=Role.TECHNICIAN
        )
        tech.sites.add(site)
    gateway, secret = gateway_create(site=site, name="bench", rate_limit_per_minute=10**8)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_raw_alerts (LIKE alerts_alert INCLUDING ALL)")
    return {
        "site_id": site.pk,
        "asset_id": Asset.objects.filter(site=site).first().pk,
        "gateway_id": str(gateway.pk),
        "secret": secret,
    }


def webhook_spec(stack, plant, *, prefix, count, batch, concurrency, path=None, **extra) -> dict:
    return {
        "mode": "webhook",
        "base_url": stack.url,
        "path": path or f"/hooks/v1/gateways/{plant['gateway_id']}/alerts",
        "secret": plant["secret"],
        "prefix": prefix,
        "count": count,
        "batch": batch,
        "concurrency": concurrency,
        "assets": ASSETS,
        **extra,
    }


def raw_spec(stack, plant, *, count, batch, concurrency) -> dict:
    return {
        "mode": "raw-insert",
        "dsn": stack.env["DATABASE_URL"],
        "table": "bench_raw_alerts",
        "count": count,
        "batch": batch,
        "concurrency": concurrency,
        "gateway_id": plant["gateway_id"],
        "site_id": plant["site_id"],
        "asset_id": plant["asset_id"],
    }


# ---------------------------------------------------------------- figures


def ingest_figures(stack, plant, scale) -> dict:
    """1 and 2: webhook ingest next to the bare view and raw INSERTs (no worker running)."""
    c = scale["concurrency"]
    loadgen(webhook_spec(stack, plant, prefix="warm", count=200, batch=1, concurrency=c))
    return {
        "single_ingest": single_ingest_figure(stack, plant, scale),
        "batch_ingest": batch_ingest_figure(stack, plant, scale),
    }


def single_ingest_figure(stack, plant, scale) -> dict:
    """1: one alert a request through the webhook, the bare view and raw INSERT+commit."""
    c = scale["concurrency"]
    single = summarize(
        loadgen(
            webhook_spec(stack, plant, prefix="s", count=scale["singles"], batch=1, concurrency=c)
        )
    )
    bare = summarize(
        loadgen(
            webhook_spec(
                stack,
                plant,
                prefix="bare",
                count=scale["singles"],
                batch=1,
                concurrency=c,
                path=f"/bench/bare/{plant['gateway_id']}/alerts",
            )
        )
    )
    raw_single = summarize(
        loadgen(raw_spec(stack, plant, count=scale["singles"], batch=1, concurrency=c))
    )
    return {
        "webhook": single,
        "bare_view": bare,
        "raw_insert": raw_single,
        "ratio_to_bare_view": round(single["requests_per_s"] / bare["requests_per_s"], 3),
        "ratio_to_raw_insert": round(single["requests_per_s"] / raw_single["requests_per_s"], 3),
        "target": "webhook >= 60% of the bare view",
    }


def batch_ingest_figure(stack, plant, scale) -> dict:
    """2: 500 alerts a request through the webhook and as raw multi-row INSERTs."""
    batch = summarize(
        loadgen(
            webhook_spec(stack, plant, prefix="b", count=scale["batches"], batch=500, concurrency=4)
        ),
        alerts_per_request=500,
    )
    raw_batch = summarize(
        loadgen(raw_spec(stack, plant, count=scale["batches"], batch=500, concurrency=4)),
        alerts_per_request=500,
    )
    return {
        "webhook": batch,
        "raw_insert": raw_batch,
        "ratio_to_raw_insert": round(batch["alerts_per_s"] / raw_batch["alerts_per_s"], 3),
        "target": "webhook >= 25% of raw multi-row INSERT",
    }


def drain_figure(stack, single_rate: float) -> dict:
    """4: start one worker node (2 processes) on the backlog ingest left; alerts/s drained.

    The backlog has a plant's severity mix (10 % critical, 20 % major: they open or attach
    to work orders; 30 % minor, 40 % warning: recorded), spread over 500 assets.
    """
    pending = backlog()
    start = time.monotonic()
    stack.start_workers()
    done = wait_for(lambda: backlog() == 0, timeout=900, what="the backlog to drain")
    seconds = done - start
    rate = pending / seconds
    return {
        "alerts": pending,
        "seconds_including_worker_start": round(seconds, 2),
        "alerts_per_s": round(rate, 1),
        "single_ingest_requests_per_s": single_rate,
        "ratio_to_single_ingest": round(rate / single_rate, 3),
        "target": "ratio >= 1.0",
    }


def latency_figure(stack, plant, *, seconds: int) -> dict:
    """3: a steady 50 alerts/s; time from sending the request to the work order committed."""
    from alerts.models import Alert

    rate = 50
    settle(stack)
    result = loadgen(
        webhook_spec(
            stack,
            plant,
            prefix="lat",
            count=rate * seconds,
            batch=1,
            concurrency=4,
            rate=rate,
            record_ids=True,
            severity="critical",
            conditions=1000,
        )
    )
    wait_for(lambda: backlog() == 0, timeout=300, what="latency alerts to be processed")
    processed = dict(
        Alert.objects.filter(alert_id__startswith="lat-").values_list("alert_id", "processed_at")
    )
    series = sorted(
        (t0, (processed[aid].timestamp() - t0) * 1000)
        for aid, t0 in result["sent"].items()
        if processed.get(aid)
    )
    latencies = [ms for _, ms in series]
    return {
        "rate_per_s": rate,
        "alerts": len(result["sent"]),
        "non_202": sum(n for code, n in result["statuses"].items() if code != "202"),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "target": "p95 <= 250 ms",
        "series": [[round(t - series[0][0], 3), round(ms, 1)] for t, ms in series],
    }


def storm_figure(stack, plant, *, alerts: int, batch: int) -> dict:
    """5: alerts for one asset and condition from 8 concurrent senders."""
    from alerts.models import Alert
    from workorders.models import WorkOrder

    settle(stack)
    start = time.monotonic()
    result = loadgen(
        webhook_spec(
            stack,
            plant,
            prefix=f"storm{batch}",
            count=alerts // batch,
            batch=batch,
            concurrency=8,
            fixed_key=["P-0001", f"storm.b{batch}"],
            severity="major",
        )
    )
    sent = time.monotonic()
    done = wait_for(lambda: backlog() == 0, timeout=600, what="the storm to drain")
    stored = Alert.objects.filter(alert_id__startswith=f"storm{batch}-")
    work_orders = WorkOrder.objects.filter(condition=f"storm.b{batch}")
    return {
        "alerts": alerts,
        "senders": 8,
        "alerts_per_request": batch,
        "non_202": sum(n for code, n in result["statuses"].items() if code != "202"),
        "send_seconds": round(sent - start, 2),
        "drain_seconds": round(done - start, 2),
        "work_orders_created": work_orders.count(),
        "alerts_lost": alerts - stored.count(),
        "alerts_not_linked": stored.filter(work_order__isnull=True).count(),
        "alert_count_on_work_order": sum(w.alert_count for w in work_orders),
        "target": "drain < 30 s, exactly 1 work order, 0 lost",
    }


# ---------------------------------------------------------------- main


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": _cpu_model(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


SCALES = {
    "quick": {
        "singles": 200,
        "batches": 2,
        "concurrency": 8,
        "latency_seconds": 4,
        "storm": 1000,
        "api_work_orders": 20_000,
        "api_assets": 2_000,
        "pm_plans": 2_000,
        "webhook_work_orders": 100,
        "pages": {"warmup": 4, "count": 6, "max_seconds": 3, "min_count": 3},
        "fleet_gateways": 200,
        "fleet_heartbeats": 400,
        "mqtt_alerts": 500,
    },
    "full": {
        "singles": 3000,
        "batches": 40,
        "concurrency": 8,
        "latency_seconds": 30,
        "storm": 10_000,
        "api_work_orders": 1_000_000,
        "api_assets": 100_000,
        "pm_plans": 100_000,
        # Figure 13: each created, assigned and approved: three changes, three events.
        "webhook_work_orders": 2_000,
        # One warm-up request per gunicorn worker. A page as slow as today's admin list (10 s)
        # gets 6 measured requests, not 30.
        "pages": {"warmup": 4, "count": 30, "max_seconds": 60, "min_count": 5},
        # 10,000 gateways beating every 60 s; 6,000 heartbeats is over half a minute of it.
        "fleet_gateways": 10_000,
        "fleet_heartbeats": 6_000,
        # One alert per QoS 1 message (figure 11); figure 12 reuses latency_seconds.
        "mqtt_alerts": 5_000,
    },
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small scale (CI smoke run)")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated: ingest,pipeline,api,pages,pm,webhooks,fleet,mqtt,measurements",
    )
    args = parser.parse_args(argv)
    scale = SCALES["quick" if args.quick else "full"]
    only = set(filter(None, args.only.split(","))) or {
        "ingest",
        "pipeline",
        "api",
        "pages",
        "pm",
        "webhooks",
        "fleet",
        "mqtt",
        "measurements",
    }
    results = {
        "started_at": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "full",
        "machine": machine(),
        "scale": scale,
    }
    failures = run_stages(results, scale=scale, only=only)
    results["finished_at"] = datetime.now(tz=UTC).isoformat(timespec="seconds")
    from bench.report import write_report

    write_report(results, quick=args.quick)
    print(
        json.dumps({k: v for k, v in results.items() if k != "end_to_end"}, indent=2, default=str)
    )
    if failures:
        raise SystemExit(f"bench: stages failed: {', '.join(failures)}")
    return results


def run_stages(results: dict, *, scale: dict, only: set[str]) -> list[str]:
    """Start the stack and run the chosen stages into `results`; the names of those that failed."""
    failures = []

    def stage(name, run):
        """Run one stage; a failure is recorded and reported, and the others still run."""
        try:
            run()
        except Exception as exc:
            traceback.print_exc()
            failures.append(name)
            results.setdefault("errors", {})[name] = f"{type(exc).__name__}: {exc}"

    with Stack(wsgi="bench.wsgi") as stack:
        stack.create_database()
        setup_django(stack)
        plant = load_plant()
        if "pages" in only:
            stack.collect_static()
        if only - {"measurements"}:  # which runs on a database of its own, without the web
            stack.start_web()
        if "ingest" in only or "pipeline" in only:
            stage("pipeline", lambda: pipeline_figures(results, stack, plant, scale))
            stack.stop("worker")
            stack.stop("worker-default")
        if only & {"api", "pages"}:
            scale_figures(results, stack, scale, only=only, stage=stage)
        if "pm" in only:
            from bench.pm_figure import pm_figure

            stage("pm", lambda: results.update(pm_generation=pm_figure(scale)))
        if "webhooks" in only:
            from bench.webhooks_figure import webhooks_figure

            stage("webhooks", lambda: results.update(webhooks=webhooks_figure(stack, scale)))
        if "fleet" in only:
            from bench.fleet_figure import fleet_figure

            stage("fleet", lambda: results.update(fleet=fleet_figure(stack, scale)))
        if "mqtt" in only:
            from bench.mqtt import mqtt_figure

            stage(
                "mqtt",
                lambda: results.update(mqtt=mqtt_figure(stack, plant, scale, settle=settle)),
            )
        if "measurements" in only:
            from bench.measurements import run_in_own_process

            quick = results["mode"] == "quick"
            stage(
                "measurements",
                lambda: results.update(measurements=run_in_own_process(quick=quick)),
            )
    return failures


def scale_figures(results: dict, stack, scale, *, only: set[str], stage) -> None:
    """6 and 8 on one load of the API-scale data; 8 also measures halfway through the load."""
    from bench import pages_figure
    from bench.api_scale import api_figure, load

    data = {}

    def checkpoint(part: dict) -> dict:
        """Figure 8's first size; a failure here is figure 8's, figure 6 still runs."""
        try:
            return pages_figure.measure_in_process(part)
        except Exception as exc:
            traceback.print_exc()
            return {"error": f"{type(exc).__name__}: {exc}"}

    stage(
        "scale-data",
        lambda: data.update(
            load(
                work_orders=scale["api_work_orders"],
                assets=scale["api_assets"],
                checkpoint=checkpoint if "pages" in only else None,
            )
        ),
    )
    if not data:
        return
    if "api" in only:
        stage("api", lambda: results.update(api_at_scale=api_figure(stack, scale, data)))
    if "pages" in only:
        stage(
            "pages",
            lambda: results.update(pages_at_scale=pages_figure.pages_figure(stack, scale, data)),
        )


def pipeline_figures(results: dict, stack, plant, scale) -> None:
    """1 to 5 into `results`, each as soon as it is measured (a later failure keeps them)."""
    results.update(ingest_figures(stack, plant, scale))
    single_rate = results["single_ingest"]["webhook"]["requests_per_s"]
    results["pipeline_drain"] = drain_figure(stack, single_rate)
    results["end_to_end"] = latency_figure(stack, plant, seconds=scale["latency_seconds"])
    results["storm"] = storm_figure(stack, plant, alerts=scale["storm"], batch=1)
    results["storm_batched"] = storm_figure(stack, plant, alerts=scale["storm"], batch=100)


if __name__ == "__main__":
    main()
