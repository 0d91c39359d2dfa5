"""Figure 6: the API with 1,000,000 work orders and 100,000 assets across 20 sites.

Loads the data with bulk operations (a few minutes at full scale), then measures p50/p95
latency through gunicorn from the load generator, and the queries per request in-process for
several page sizes (they must not grow with the page size).
"""

import random
import time
from datetime import timedelta

SITES = 20
TECHS_PER_SITE = 10


def load(*, work_orders: int, assets: int, checkpoint=None, first_share: float = 0.1) -> dict:
    """Load the data set; with `checkpoint`, in two parts, calling `checkpoint(data)` in between.

    The first part is `first_share` of the assets and work orders of every site; the second
    adds the rest, so a figure can measure at two sizes without loading anything twice. The
    time `checkpoint` takes is not counted in `seconds`; what it returns is `at_checkpoint`.
    """
    from django.db import connection

    from accounts.models import User
    from accounts.services import api_token_issue

    rng = random.Random(42)
    started = time.perf_counter()
    sites = _load_sites()
    techs, planner = _load_people(sites)
    tech = User.objects.get(username=f"{sites[0].code}-tech0")
    data = {"technician": tech, "planner": planner, "site": sites[0].pk}
    shares = [first_share, 1 - first_share] if checkpoint else [1.0]
    asset_ids: dict[int, list[int]] = {site.pk: [] for site in sites}
    assets_done = work_orders_done = 0
    paused = 0.0
    for part, share in enumerate(shares):
        per_site_assets = round(assets * share) // SITES
        per_site_work = round(work_orders * share) // SITES
        _load_assets(sites, asset_ids, start=assets_done, count=per_site_assets)
        if part == 0:
            _load_busy_weeks(tech, sites[0], asset_ids[sites[0].pk])
        _load_work_orders(
            rng, sites, asset_ids, techs, start=work_orders_done, per_site=per_site_work
        )
        assets_done += per_site_assets
        work_orders_done += per_site_work
        with connection.cursor() as cursor:
            # What autovacuum does to a table after a bulk load: planner statistics, and the
            # visibility map that lets counts be answered from the indexes alone.
            cursor.execute("VACUUM ANALYZE")
        if checkpoint and part == 0:
            pause = time.perf_counter()
            data["at_checkpoint"] = checkpoint(
                {**data, "work_orders": work_orders_done * SITES, "assets": assets_done * SITES}
            )
            paused += time.perf_counter() - pause
    return {
        **data,
        "seconds": round(time.perf_counter() - started - paused, 1),
        "technician_token": api_token_issue(user=tech, name="bench", by=None)[1],
        "planner_token": api_token_issue(user=planner, name="bench", by=None)[1],
    }


def _load_sites() -> list:
    """SITES sites of one customer."""
    from assets.models import Customer, Site

    customer = Customer.objects.create(name="Scale customer")
    return Site.objects.bulk_create(
        Site(customer=customer, code=f"scale{n:02d}", name=f"Scale plant {n}") for n in range(SITES)
    )


def _load_assets(sites: list, asset_ids: dict[int, list[int]], *, start: int, count: int) -> None:
    """`count` more assets a site, tagged from S-`start`; their ids appended to `asset_ids`."""
    from django.db.models import CharField, Value
    from django.db.models.functions import Cast, Concat

    from assets.models import Asset

    for site in sites:
        created = Asset.objects.bulk_create(
            (
                Asset(site=site, tag=f"S-{n:06d}", name=f"Asset {n}")
                for n in range(start, start + count)
            ),
            batch_size=10_000,
        )
        asset_ids[site.pk] += [asset.pk for asset in created]
    Asset.objects.filter(site__in=sites, path="").update(
        path=Concat(Value("/"), Cast("id", CharField()), Value("/"))
    )


def _load_people(sites: list) -> tuple[dict[int, list[int]], object]:
    """TECHS_PER_SITE technicians per site (site id -> user ids) and a planner of two sites."""
    from accounts.models import User
    from cmms.roles import Role

    techs = {}
    for site in sites:
        techs[site.pk] = []
        for i in range(TECHS_PER_SITE):
            tech = User(username=f"{site.code}-tech{i}", role=Role.TECHNICIAN)
            tech.set_unusable_password()
            tech.save()
            tech.sites.add(site)
            techs[site.pk].append(tech.pk)
    planner = User(username="scale-planner", role=Role.PLANNER, is_staff=True)
    planner.set_unusable_password()
    planner.save()
    planner.sites.add(sites[0], sites[1])
    return techs, planner


BUSY_WEEK = 12  # per due window: more than the technician pages show in a group (10)


def _load_busy_weeks(tech, site, asset_ids: list[int]) -> None:
    """Open work for the measured technician: overdue, due today, in the next days and later.

    The three-year spread of the rest gives one technician only a few open work orders due
    near now at 10 % of the data; these fill every group of their pages from the first size
    on, so the two-size check compares pages whose groups are full at both sizes. Loaded
    once, with the first part: they are 48 of the technician's work orders at either size.
    """
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    from workorders.choices import Status
    from workorders.models import WorkOrder

    now = timezone.now()
    zone = ZoneInfo(site.timezone)
    tomorrow = datetime.combine(now.astimezone(zone).date() + timedelta(days=1), time.min, zone)
    windows = {  # (first due, last due)
        "overdue": (now - timedelta(days=20), now - timedelta(hours=1)),
        "today": (now + (tomorrow - now) / 2, tomorrow - timedelta(minutes=1)),
        "next days": (tomorrow + timedelta(hours=1), tomorrow + timedelta(days=6, hours=23)),
        "later": (tomorrow + timedelta(days=10), tomorrow + timedelta(days=60)),
    }
    WorkOrder.objects.bulk_create(
        WorkOrder(
            site=site,
            asset_id=asset_ids[n % len(asset_ids)],
            title=f"Busy {window} {n}",
            status=Status.SCHEDULED,
            priority=1 + n % 4,
            assignee=tech,
            due_at=first + (last - first) * n / BUSY_WEEK,
            created_at=now - timedelta(days=1),
        )
        for window, (first, last) in windows.items()
        for n in range(BUSY_WEEK)
    )


def _load_work_orders(rng, sites, asset_ids, techs, *, start: int, per_site: int) -> None:
    """`per_site` work orders per site over three years: 70 % closed, 10 % completed, the rest open."""
    from django.utils import timezone

    from workorders.choices import Status
    from workorders.models import WorkOrder

    open_statuses = [
        Status.REQUESTED,
        Status.APPROVED,
        Status.SCHEDULED,
        Status.IN_PROGRESS,
        Status.ON_HOLD,
    ]
    now = timezone.now()

    def rows(site):
        for n in range(start, start + per_site):
            roll = rng.random()
            status = (
                Status.CLOSED
                if roll < 0.7
                else Status.COMPLETED
                if roll < 0.8
                else rng.choice(open_statuses)
            )
            created = now - timedelta(minutes=rng.randrange(0, 60 * 24 * 365 * 3))
            yield WorkOrder(
                site_id=site.pk,
                asset_id=rng.choice(asset_ids[site.pk]),
                title=f"Work {n}",
                status=status,
                priority=rng.randint(1, 4),
                assignee_id=rng.choice(techs[site.pk]),
                due_at=created + timedelta(days=rng.randint(1, 30)),
                created_at=created,
            )

    for site in sites:
        WorkOrder.objects.bulk_create(rows(site), batch_size=10_000)


def endpoints(data: dict) -> dict:
    site = data["site"]
    return {
        "technician my work (GET /api/v1/work-orders/?assignee=me, open)": (
            "technician",
            "/api/v1/work-orders/?assignee=me&status=requested,approved,scheduled,in_progress,on_hold",
        ),
        "planner filtered list (site, status, priority)": (
            "planner",
            f"/api/v1/work-orders/?site={site}&status=scheduled,in_progress&priority=1,2",
        ),
        "planner overdue list": ("planner", f"/api/v1/work-orders/?site={site}&overdue=true"),
    }


def query_counts(user, url: str) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    client = APIClient(SERVER_NAME="localhost")
    client.force_authenticate(user)
    counts = {}
    for size in (10, 50, 100):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"{url}&page_size={size}")
        assert response.status_code == 200, response.content[:300]
        counts[str(size)] = len(ctx.captured_queries)
    return counts


def api_figure(stack, scale: dict, data: dict) -> dict:
    """Figure 6 on the data `load` left (`data` is what it returned)."""
    from bench.load import loadgen, summarize

    figures = {}
    for name, (role, url) in endpoints(data).items():
        token = data[f"{role}_token"]
        loadgen(
            {
                "mode": "get",
                "base_url": stack.url,
                "urls": [url],
                "token": token,
                "count": 20,
                "concurrency": 2,
            }
        )
        result = summarize(
            loadgen(
                {
                    "mode": "get",
                    "base_url": stack.url,
                    "urls": [url],
                    "token": token,
                    "count": 400,
                    "concurrency": 4,
                }
            )
        )
        result["queries_by_page_size"] = query_counts(data[role], url)
        result["url"] = url
        figures[name] = result
    return {
        "work_orders": scale["api_work_orders"],
        "assets": scale["api_assets"],
        "sites": SITES,
        "load_seconds": data["seconds"],
        "endpoints": figures,
    }
