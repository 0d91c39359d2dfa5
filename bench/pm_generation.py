"""PM generation throughput: 100,000 plans turned into work orders in one run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cmms_d .venv/bin/python -m bench.pm_generation \
        [--plans 100000] [--chunk 1000]

Creates a fresh site with one asset per plan and monthly fixed-schedule plans due now (bulk
inserts, each due tomorrow with one day of lead time), runs `pm_generate_due` once and reports work orders per second, then runs it again
to show the second run creates nothing. The job plan has three checklist steps and no parts
(part reservation locks stock rows per work order and is measured by the pipeline bench).
"""

import argparse
import os
import time
import uuid
from datetime import timedelta


def setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cmms.settings")
    import django

    django.setup()


def load(plans: int):
    from workorders.job_plans import job_plan_save

    tag = uuid.uuid4().hex[:8]
    site = _load_site(tag, assets=plans)
    job_plan = job_plan_save(
        code=f"pm-bench-{tag}",
        title="Monthly lubrication",
        work_type="preventive",
        steps=["Grease bearings", "Check vibration", "Clean filters"],
    )
    _load_plans(site, job_plan)
    return site


def _load_site(tag: str, *, assets: int):
    """A Berlin site with `assets` pumps (top-level assets, paths set)."""
    from django.db.models import CharField, Value
    from django.db.models.functions import Cast, Concat

    from assets.models import Asset, Customer, Site

    site = Site.objects.create(
        customer=Customer.objects.get_or_create(name="Bench")[0],
        code=f"pm-bench-{tag}",
        name="PM bench plant",
        timezone="Europe/Berlin",
    )
    Asset.objects.bulk_create(
        (Asset(site=site, tag=f"P-{n:06d}", name=f"Pump {n}") for n in range(assets)),
        batch_size=5000,
    )
    Asset.objects.filter(site=site).update(
        path=Concat(Value("/"), Cast("id", CharField()), Value("/"))
    )
    return site


def _load_plans(site, job_plan) -> None:
    """One monthly PM plan per asset of the site, each due for generation now."""
    from django.utils import timezone

    from assets.models import Asset
    from pm.models import PMPlan

    now = timezone.now()
    # Due tomorrow at this time with a lead of one day: each plan is due for generation now.
    local_now = timezone.localtime(now - timedelta(minutes=5), site_tz(site))
    asset_ids = Asset.objects.filter(site=site).order_by("id").values_list("id", flat=True)
    PMPlan.objects.bulk_create(
        (
            PMPlan(
                site=site,
                name=f"Lubrication {n}",
                asset_id=asset_id,
                job_plan=job_plan,
                interval=1,
                interval_unit="month",
                starts_on=local_now.date() + timedelta(days=1),
                due_time=local_now.time(),
                lead_days=1,
                generate_from=now - timedelta(days=1),
                created_at=now - timedelta(days=1),
            )
            for n, asset_id in enumerate(asset_ids.iterator(chunk_size=5000))
        ),
        batch_size=5000,
    )


def analyze():
    """Fresh planner statistics after the bulk load, as a production database would have."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "ANALYZE assets_asset, pm_pmplan, pm_pmoccurrence, workorders_workorder, "
                "workorders_checkliststep, workorders_statuschange, workorders_workorderevent"
            )


def site_tz(site):
    from zoneinfo import ZoneInfo

    return ZoneInfo(site.timezone)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--plans", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=1000)
    args = parser.parse_args()
    setup_django()
    from pm.models import PMPlan
    from pm.services import pm_generate_due
    from workorders.models import WorkOrder

    started = time.perf_counter()
    site = load(args.plans)
    print(f"set-up: {args.plans} plans in {time.perf_counter() - started:.1f} s")
    analyze()
    plan_ids = PMPlan.objects.filter(site=site).values_list("id", flat=True)

    started = time.perf_counter()
    result = pm_generate_due(plan_ids=plan_ids, chunk_size=args.chunk)
    elapsed = time.perf_counter() - started
    created = WorkOrder.objects.filter(site=site).count()
    print(
        f"generation: {result.generated} work orders ({created} in the database) in "
        f"{elapsed:.1f} s = {result.generated / elapsed:,.0f} work orders/s"
    )
    started = time.perf_counter()
    again = pm_generate_due(plan_ids=plan_ids, chunk_size=args.chunk)
    print(
        f"second run: {again.generated} work orders, {again.skipped} skipped in "
        f"{time.perf_counter() - started:.1f} s (idempotent)"
    )
    assert created == args.plans and again.generated == 0


if __name__ == "__main__":
    main()
