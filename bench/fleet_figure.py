"""Figures 9 and 10: a fleet of gateways beating every minute, and the silence check over it.

9. Heartbeat ingest through gunicorn: `fleet` gateways (10,000 at full scale) each with 4
   sensors, every gateway sending a heartbeat every 60 s, is 10,000 / 60 = 166.7 heartbeats/s.
   The load generator sends signed heartbeats of many gateways (round robin, each with its own
   secret, 4 sensor reports each) from 8 connections as fast as the stack answers; the figure
   is the sustained rate and the latency, against that implied rate.
10. The silence check (`fleet.connectivity.check_connectivity(now=)`) over the same fleet, run
   in-process against the benchmark database, once a simulated minute for several minutes with
   a realistic mix: most gateways heard within the minute (their heartbeats are written by one
   UPDATE between checks, untimed), 2 % silent since staggered times (so every check records
   some online -> late and late -> offline transitions and opens silence work), 0.5 % offline
   coming back (recoveries on the first check). Reported: the median and the slowest check,
   and the queries of each.
"""

import random
import statistics
import time
from datetime import timedelta

IMPLIED_FLEET = 10_000
HEARTBEAT_EVERY_SECONDS = 60
IMPLIED_RATE = IMPLIED_FLEET / HEARTBEAT_EVERY_SECONDS  # 166.7 heartbeats/s
SENSORS_PER_GATEWAY = 4
SILENT_SHARE = 0.02
RECOVERING_SHARE = 0.005
CHECKS = 5


def load_fleet(gateways: int, *, seed: int = 15) -> dict:
    """A site with `gateways` gateways (interval 60 s, grace 60 s), each with a secret and 4
    sensors watching the site's assets, all heard within the last minute; bulk inserts."""
    from django.db.models import CharField, Value
    from django.db.models.functions import Cast, Concat
    from django.utils import timezone

    from assets.models import Asset, Customer, Site
    from gateways import gateway_secrets
    from gateways.choices import Connectivity, SensorState
    from gateways.models import Gateway, GatewaySecret, Sensor

    rng = random.Random(seed)
    now = timezone.now()
    site = Site.objects.create(
        customer=Customer.objects.get_or_create(name="Bench")[0], code="fleet", name="Fleet plant"
    )
    assets = Asset.objects.bulk_create(
        (Asset(site=site, tag=f"F-{n:05d}", name=f"Motor {n}") for n in range(gateways)),
        batch_size=5000,
    )
    Asset.objects.filter(site=site).update(
        path=Concat(Value("/"), Cast("id", CharField()), Value("/"))
    )
    silent, recovering = _shares(gateways)
    rows = []
    for n in range(gateways):
        kind = "s" if n < silent else "r" if n < silent + recovering else "h"
        heard = now - timedelta(seconds=rng.uniform(1, 50))
        rows.append(
            Gateway(
                site=site,
                name=f"{kind}-{n:05d}",
                heartbeat_interval_seconds=HEARTBEAT_EVERY_SECONDS,
                heartbeat_grace_seconds=HEARTBEAT_EVERY_SECONDS,
                connectivity=Connectivity.ONLINE,
                connectivity_since=now - timedelta(days=1),
                last_seen_at=heard,
                last_heartbeat_at=heard,
                firmware="2.4.1",
                rate_limit_per_minute=10**8,
            )
        )
    fleet = Gateway.objects.bulk_create(rows, batch_size=2000)
    secrets = [gateway_secrets.generate() for _ in fleet]
    GatewaySecret.objects.bulk_create(
        (
            GatewaySecret(
                gateway=gateway,
                encrypted=gateway_secrets.encrypt(secret),
                fingerprint=gateway_secrets.fingerprint(secret),
            )
            for gateway, secret in zip(fleet, secrets, strict=True)
        ),
        batch_size=2000,
    )
    Sensor.objects.bulk_create(
        (
            Sensor(
                gateway=gateway,
                code=f"s{k}",
                measures="vibration",
                asset=assets[(n + k) % len(assets)],
                state=SensorState.LIVE,
                state_since=now - timedelta(days=1),
                last_sample_at=gateway.last_seen_at,
                last_reported_at=gateway.last_seen_at,
            )
            for n, gateway in enumerate(fleet)
            for k in range(SENSORS_PER_GATEWAY)
        ),
        batch_size=5000,
    )
    return {
        "site_id": site.pk,
        "gateways": [[str(g.pk), s] for g, s in zip(fleet, secrets, strict=True)],
    }


def _shares(gateways: int) -> tuple[int, int]:
    return max(1, round(gateways * SILENT_SHARE)), max(1, round(gateways * RECOVERING_SHARE))


def heartbeat_figure(stack, fleet: dict, *, requests: int, concurrency: int = 8) -> dict:
    """9: signed heartbeats of the whole fleet through gunicorn, as fast as it answers."""
    from bench.load import loadgen, summarize

    spec = {
        "mode": "heartbeat",
        "base_url": stack.url,
        "gateways": fleet["gateways"],
        "sensors": SENSORS_PER_GATEWAY,
        "concurrency": concurrency,
    }
    loadgen({**spec, "count": min(200, requests)})  # warm-up: connections, caches
    measured = summarize(loadgen({**spec, "count": requests}))
    return {
        "gateways": len(fleet["gateways"]),
        "sensors_per_gateway": SENSORS_PER_GATEWAY,
        "implied_rate_per_s": round(IMPLIED_RATE, 1),
        **measured,
        "ratio_to_implied": round(measured["requests_per_s"] / IMPLIED_RATE, 3),
        "target": f">= {IMPLIED_RATE:.1f} heartbeats/s (10,000 gateways every 60 s)",
    }


def silence_figure(fleet: dict, *, checks: int = CHECKS) -> dict:
    """10: `check_connectivity` over the fleet once a simulated minute, `checks` times."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from fleet.connectivity import check_connectivity
    from gateways.choices import Connectivity
    from gateways.models import Gateway, Sensor

    site_id = fleet["site_id"]
    gateways = Gateway.objects.filter(site_id=site_id)
    count = len(fleet["gateways"])
    base = timezone.now()
    # Silent gateways fell quiet at staggered times over the last minutes; the recovering ones
    # are recorded offline since an hour and are heard again from now on.
    silent_ids = list(gateways.filter(name__startswith="s-").values_list("pk", flat=True))
    for step in range(16):
        quiet_since = base - timedelta(seconds=30 + 15 * step)
        gateways.filter(pk__in=silent_ids[step::16]).update(
            last_seen_at=quiet_since, last_heartbeat_at=quiet_since
        )
    gateways.filter(name__startswith="r-").update(
        connectivity=Connectivity.OFFLINE, connectivity_since=base - timedelta(hours=1)
    )
    runs = []
    for i in range(checks):
        now = base + timedelta(seconds=HEARTBEAT_EVERY_SECONDS * i)
        heard = now - timedelta(seconds=20)
        beating = gateways.exclude(name__startswith="s-")
        beating.update(last_seen_at=heard, last_heartbeat_at=heard)
        Sensor.objects.filter(gateway__in=beating).update(last_sample_at=heard)
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            result = check_connectivity(now=now)
            seconds = time.perf_counter() - started
        runs.append(
            {
                "ms": round(seconds * 1000, 1),
                "queries": len(queries),
                "gateway_transitions": len(result.gateways),
                "sensor_transitions": len(result.sensors),
                "work_opened": len(result.opened),
                "recovered": len(result.recovered),
            }
        )
    times = [run["ms"] for run in runs]
    silent, recovering = _shares(count)
    return {
        "gateways": count,
        "sensors": count * SENSORS_PER_GATEWAY,
        "silent": silent,
        "recovering": recovering,
        "runs": runs,
        "median_ms": round(statistics.median(times), 1),
        "max_ms": max(times),
        "queries": [run["queries"] for run in runs],
        "target": "median < 1 s",
    }


def fleet_figure(stack, scale: dict) -> dict:
    fleet = load_fleet(scale["fleet_gateways"])
    return {
        "heartbeats": heartbeat_figure(stack, fleet, requests=scale["fleet_heartbeats"]),
        "silence_check": silence_figure(fleet),
    }
