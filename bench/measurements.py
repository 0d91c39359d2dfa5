"""Issue 20: measurements stored at 10 million values, and 90-day trends read back.

    python -m bench.measurements [--quick]   (also the `measurements` stage of `python -m bench`)

Creates its own PostgreSQL database, `cmms_bench_measurements` (dropped first, then migrated),
so it shares nothing with `cmms_bench`. One site with `assets` assets, each with `names`
measurements sampled every `interval_s` seconds over the `days` days up to now: several
monthly partitions, made beforehand with `partitions_ensure` as beat would have made them.

Storage: the values go in time order (as a plant's gateways send them), `batch` values a call,
through `measurements_record`. The reference is the same rows in the same batches as a plain
multi-row `INSERT ... VALUES` from the driver, site included, into `bench_raw_measurement`: a
scratch table copied from the catalog with the same columns, key, indexes, foreign keys and
monthly partitions. The two tables are filled batch for batch in turn, so both see the same
table sizes, checkpoints and machine load: the ratio compares the statements, not two moments.
Only the calls are timed; making the rows is not.

Reads: `measurements_aggregate` over the whole load (timed), ANALYZE (as autovacuum would),
then `measurement_series` over a 90-day window for random (asset, name) pairs at raw and hourly
resolution, and the `EXPLAIN (ANALYZE, BUFFERS)` of one read of each.

Writes `bench/results/measurements.json` (`bench/results/quick/measurements.json` with --quick).
"""

import argparse
import json
import math
import os
import random
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from bench.load import percentile
from bench.stack import ROOT, Stack

DB_NAME = "cmms_bench_measurements"
RAW_TABLE = "bench_raw_measurement"
WINDOW = timedelta(days=90)
# (name, unit, typical level)
NAMES = (("vibration", "mm/s", 4.0), ("temperature", "degC", 60.0), ("pressure", "bar", 6.0))

SCALES = {
    # 2 assets x 3 names x 96 values a day x 120 days = 69,120 values, about 20 s of storing
    # (200,000 would be a minute at the rate measured on a 2-core machine)
    "quick": {"assets": 2, "names": 3, "days": 120, "interval_s": 900, "batch": 500, "reads": 40},
    # 290 x 3 x 96 x 120 = 10,022,400 values; a 90-day raw series is 8,640 points
    "full": {"assets": 290, "names": 3, "days": 120, "interval_s": 900, "batch": 500, "reads": 300},
}


# ---------------------------------------------------------------- data


def load_assets(count: int) -> list[int]:
    """A site with `count` pumps; their ids."""
    from assets.models import Asset, Customer, Site

    site = Site.objects.create(
        customer=Customer.objects.get_or_create(name="Bench")[0],
        code="measurements-bench",
        name="Measurements bench plant",
    )
    Asset.objects.bulk_create(
        (Asset(site=site, tag=f"M-{n:05d}", name=f"Pump {n}") for n in range(count)),
        batch_size=5000,
    )
    return list(Asset.objects.filter(site=site).order_by("id").values_list("id", flat=True))


def timestamps(scale: dict, *, end: datetime) -> list[datetime]:
    """Every sampling instant of the `days` days before `end` (UTC)."""
    steps = scale["days"] * 86400 // scale["interval_s"]
    first = end - timedelta(seconds=steps * scale["interval_s"])
    return [first + timedelta(seconds=i * scale["interval_s"]) for i in range(steps)]


def batches(scale: dict, *, asset_ids: list[int], site_id: int, instants: list[datetime]):
    """(values for `measurements_record`, the same rows for the raw INSERT), `batch` at a time,
    in time order: at each instant one value of every (asset, name)."""
    from monitoring.choices import MeasurementSource
    from monitoring.services import MeasurementIn

    source = MeasurementSource.READING
    rng = random.Random(20)
    series = [(a, *n) for a in asset_ids for n in NAMES[: scale["names"]]]
    day = 86400 / scale["interval_s"]
    values, rows = [], []
    for i, at in enumerate(instants):
        cycle = 0.1 * math.sin(2 * math.pi * i / day)
        for asset_id, name, unit, level in series:
            value = level * (1 + cycle + 0.05 * (rng.random() - 0.5))
            values.append(MeasurementIn(asset_id, name, unit, value, at, source))
            rows.append((asset_id, site_id, name, unit, value, at, source))
            if len(values) == scale["batch"]:
                yield values, rows
                values, rows = [], []
    if values:
        yield values, rows


def create_raw_table(cursor) -> None:
    """`bench_raw_measurement`: the measurement table's columns, key, indexes, foreign keys
    and partitions, read from the catalog (so it follows the migration by construction)."""
    from monitoring.partitions import TABLE

    cursor.execute(f"CREATE TABLE {RAW_TABLE} (LIKE {TABLE} INCLUDING ALL) PARTITION BY RANGE (at)")
    cursor.execute(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'f'",
        [TABLE],
    )
    for (definition,) in cursor.fetchall():
        cursor.execute(f"ALTER TABLE {RAW_TABLE} ADD {definition}")
    cursor.execute(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
        "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
        [TABLE],
    )
    for name, bound in cursor.fetchall():
        partition = name.replace(TABLE, RAW_TABLE)
        cursor.execute(f"CREATE TABLE {partition} PARTITION OF {RAW_TABLE} {bound}")


# ---------------------------------------------------------------- storage


def store(scale: dict, *, asset_ids: list[int], site_id: int, instants: list[datetime]) -> dict:
    """Every value through `measurements_record` and, in turn, as a raw multi-row INSERT."""
    import psycopg
    from django.db import connection

    from monitoring.services import measurements_record

    columns = "asset_id, site_id, name, unit, value, at, source"
    row = "(" + ", ".join(["%s"] * 7) + ")"
    # The driver's own cursor with server-side binding, as figure 2's raw INSERTs (Django's
    # connection binds on the client; both parse the 3,500 placeholders in Python).
    raw = psycopg.Cursor(connection.connection)
    timed = {"record": [0.0, 0.0], "raw": [0.0, 0.0]}  # wall, client CPU
    stored = values = calls = 0
    started = time.perf_counter()
    for batch, rows in batches(scale, asset_ids=asset_ids, site_id=site_id, instants=instants):
        sql = f"INSERT INTO {RAW_TABLE} ({columns}) VALUES {', '.join([row] * len(rows))}"
        params = [v for r in rows for v in r]
        with _timer(timed["raw"]):
            raw.execute(sql, params)
        with _timer(timed["record"]):
            stored += measurements_record(measurements=batch)
        values += len(batch)
        calls += 1
    wall = time.perf_counter() - started
    raw.close()
    return {
        "values": values,
        "batches": calls,
        "values_per_batch": scale["batch"],
        "stored": stored,
        "record": _rate(values, *timed["record"]),
        "raw_insert": _rate(values, *timed["raw"]),
        "ratio_to_raw_insert": round(timed["raw"][0] / timed["record"][0], 3),
        "wall_seconds": round(wall, 1),
        "making_rows_seconds": round(wall - timed["raw"][0] - timed["record"][0], 1),
        "target": "measurements_record >= 25% of the raw multi-row INSERT",
    }


class _timer:
    """Adds the block's wall and process CPU seconds to `into` ([wall, cpu])."""

    def __init__(self, into: list[float]):
        self.into = into

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def __exit__(self, *exc):
        self.into[0] += time.perf_counter() - self.wall
        self.into[1] += time.process_time() - self.cpu


def _rate(values: int, wall: float, cpu: float) -> dict:
    return {
        "seconds": round(wall, 2),
        "values_per_s": round(values / wall, 1),
        "client_cpu_seconds": round(cpu, 2),
    }


# ---------------------------------------------------------------- reads


def aggregate(*, end: datetime) -> dict:
    """`measurements_aggregate` over the whole load (no hour aggregated yet: every hour)."""
    from monitoring.services import measurements_aggregate

    started = time.perf_counter()
    hours = measurements_aggregate(now=end - timedelta(seconds=1))
    return {"hours_written": hours, "seconds": round(time.perf_counter() - started, 2)}


def analyze() -> None:
    """VACUUM (ANALYZE), as autovacuum does for insert-only tables (PostgreSQL 13 and later):
    statistics for the planner, and the visibility map that lets a series be read from the
    primary key alone (it carries the value and the unit)."""
    from django.db import connection

    # Inside a transaction (the bench module's own test) VACUUM cannot run: ANALYZE only.
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        for table in ("monitoring_measurement", "monitoring_measurementhour", RAW_TABLE):
            cursor.execute(f"{command} {table}")


def reads(scale: dict, *, asset_ids: list[int], end: datetime, resolution: str) -> dict:
    """`measurement_series` of 90 days for `reads` random (asset, name) pairs."""
    from monitoring.selectors import measurement_series

    rng = random.Random(90)
    names = [n for n, _, _ in NAMES[: scale["names"]]]
    pairs = [(rng.choice(asset_ids), rng.choice(names)) for _ in range(scale["reads"])]
    start = end - WINDOW
    times, points = [], set()
    for asset_id, name in pairs:
        began = time.perf_counter()
        series = measurement_series(
            asset_id=asset_id, start=start, end=end, resolution=resolution, name=name
        )
        times.append((time.perf_counter() - began) * 1000)
        points.add(len(series[0].points))
    return {
        "reads": len(times),
        "points_per_read": sorted(points),
        "p50_ms": round(percentile(times, 50), 2),
        "p95_ms": round(percentile(times, 95), 2),
        "max_ms": round(max(times), 2),
        "first_ms": round(times[0], 2),
        "explain": explain(asset_id=pairs[0][0], name=pairs[0][1], end=end, resolution=resolution),
        "target": "p95 <= 50 ms",
    }


def explain(*, asset_id: int, name: str, end: datetime, resolution: str) -> dict:
    """EXPLAIN (ANALYZE, BUFFERS) of the very statement `measurement_series` sends."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from monitoring.selectors import measurement_series

    with CaptureQueriesContext(connection) as captured:
        measurement_series(
            asset_id=asset_id, start=end - WINDOW, end=end, resolution=resolution, name=name
        )
    (query,) = captured.captured_queries
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {query['sql']}")
        plan = [line for (line,) in cursor.fetchall()]
    return {"sql": query["sql"], "plan": plan, **summarize_plan(plan)}


def summarize_plan(plan: list[str]) -> dict:
    """What the plan says about partitions, indexes, buffers and time."""
    text = "\n".join(plan)
    partitions = sorted(set(re.findall(r" on (monitoring_measurement_(?:p\d{6}|default))", text)))
    indexes = sorted(
        set(re.findall(r"(Index(?: Only)? Scan|Bitmap Index Scan) (?:using |on )(\w+)", text))
    )
    buffers = re.search(r"Buffers: shared(?: hit=(\d+))?(?: read=(\d+))?", text)
    execution = re.search(r"Execution Time: ([\d.]+) ms", text)
    return {
        "partitions_scanned": partitions,
        "indexes": [f"{kind} {index}" for kind, index in indexes],
        "seq_scan": "Seq Scan" in text,
        "shared_hit": int(buffers.group(1) or 0) if buffers else 0,
        "shared_read": int(buffers.group(2) or 0) if buffers else 0,
        "execution_ms": float(execution.group(1)) if execution else None,
    }


def sizes() -> dict:
    """Bytes of the tables and their indexes (summed over the partitions)."""
    from django.db import connection

    def tree(cursor, relation: str) -> int:
        cursor.execute(
            "SELECT coalesce(sum(pg_relation_size(relid)), pg_relation_size(%s)) "
            "FROM pg_partition_tree(%s)",
            [relation, relation],
        )
        return int(cursor.fetchone()[0])

    out = {}
    with connection.cursor() as cursor:
        for table in ("monitoring_measurement", RAW_TABLE, "monitoring_measurementhour"):
            cursor.execute(
                "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE i.indrelid = %s::regclass ORDER BY 1",
                [table],
            )
            indexes = [name for (name,) in cursor.fetchall()]
            out[table] = {"table": tree(cursor, table)} | {i: tree(cursor, i) for i in indexes}
        cursor.execute(
            "SELECT count(*) FROM pg_partition_tree('monitoring_measurement') WHERE isleaf"
        )
        out["partitions"] = cursor.fetchone()[0]
    return out


# ---------------------------------------------------------------- the figure


def measurements_figure(scale: dict, *, end: datetime | None = None) -> dict:
    """Load, store, aggregate and read at `scale` in the configured database."""
    from django.db import connection, transaction

    from assets.models import Asset
    from monitoring.choices import Resolution
    from monitoring.partitions import partitions_ensure

    step = scale["interval_s"]
    now = end or datetime.now(tz=UTC)
    end = datetime.fromtimestamp(now.timestamp() // step * step, tz=UTC)
    instants = timestamps(scale, end=end)
    first = instants[0]
    months = (end.year - first.year) * 12 + end.month - first.month
    with transaction.atomic():
        partitions_ensure(connection, today=first.date(), months_ahead=months + 1)
    asset_ids = load_assets(scale["assets"])
    with connection.cursor() as cursor:
        create_raw_table(cursor)
    site_id = Asset.objects.get(pk=asset_ids[0]).site_id
    storage = store(scale, asset_ids=asset_ids, site_id=site_id, instants=instants)
    aggregation = aggregate(end=end)
    analyze()
    return {
        "scale": scale,
        "first_at": instants[0].isoformat(),
        "end": end.isoformat(),
        "storage": storage,
        "aggregation": aggregation,
        "read_raw": reads(scale, asset_ids=asset_ids, end=end, resolution=Resolution.RAW),
        "read_hour": reads(scale, asset_ids=asset_ids, end=end, resolution=Resolution.HOUR),
        "sizes": sizes(),
    }


def run_in_own_process(*, quick: bool) -> dict:
    """The figure from `python -m bench.measurements`: its own database, its own Django."""
    command = [sys.executable, "-m", "bench.measurements", *(["--quick"] if quick else [])]
    subprocess.run(command, cwd=ROOT, check=True)
    return json.loads(results_path(quick=quick).read_text())


def results_path(*, quick: bool):
    return ROOT / "bench" / "results" / ("quick" if quick else "") / "measurements.json"


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small scale (CI smoke run)")
    parser.add_argument("--assets", type=int, help="another number of assets than the scale's")
    args = parser.parse_args(argv)
    scale = SCALES["quick" if args.quick else "full"]
    if args.assets:
        scale = {**scale, "assets": args.assets}
    stack = Stack(db_name=DB_NAME)
    stack.create_database()
    os.environ.update(stack.env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "cmms.settings"
    import django

    django.setup()
    started = datetime.now(tz=UTC)
    figure = measurements_figure(scale)
    figure["started_at"] = started.isoformat(timespec="seconds")
    figure["finished_at"] = datetime.now(tz=UTC).isoformat(timespec="seconds")
    path = results_path(quick=args.quick)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figure, indent=2, default=str))
    print(json.dumps({k: v for k, v in figure.items() if not k.startswith("read")}, indent=2))
    for key in ("read_raw", "read_hour"):
        print(key, {k: v for k, v in figure[key].items() if k not in ("plan", "sql")})
    return figure


if __name__ == "__main__":
    main()
