"""Reads for the fleet view and for "not monitored since" wherever an asset is shown.

Every read starts from `for_user`, and every figure is computed in a fixed number of queries
whatever the fleet's size: counts and distributions are aggregates, and the gateway table is a
page of at most `PAGE_SIZE` rows.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.paginator import Page, Paginator
from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce

from fleet.availability import availability_by_gateway
from gateways.choices import Connectivity
from gateways.models import Gateway, Sensor
from workorders.choices import OPEN_STATUSES
from workorders.models import WorkOrder

PAGE_SIZE = 50
PERIOD_DAYS = (7, 30, 90)
STATUSES = [Connectivity.ONLINE, Connectivity.LATE, Connectivity.OFFLINE, Connectivity.NEVER_SEEN]
# Battery in percent and signal in dBm, in buckets [low, high): the histograms' bars.
BATTERY_BUCKETS = [(0, 10), (10, 20), (20, 40), (40, 60), (60, 80), (80, 101)]
SIGNAL_BUCKETS = [(-200, -110), (-110, -100), (-100, -90), (-90, -80), (-80, -70), (-70, 51)]
FIRMWARE_LIMIT = 12  # versions drawn; the rest are summed as "other"


def never_monitored(asset_ref: str = "pk") -> Q:
    """Assets (as `asset_ref` names them in the outer query) that active sensors watch and none
    of which has ever reported a sample: monitoring was planned but never started. The fleet
    check leaves `not_monitored_since` empty for them (there is no last time heard)."""
    watching = Sensor.objects.filter(asset=OuterRef(asset_ref), is_active=True)
    return Exists(watching) & ~Exists(watching.filter(last_sample_at__isnull=False))


def with_monitoring(assets):
    """Assets annotated with `never_monitored` (see `never_monitored`), for their pages."""
    return assets.annotate(never_monitored=never_monitored())


def work_orders_with_monitoring(work_orders):
    """Work orders annotated with `asset_never_monitored` (their asset's `never_monitored`)."""
    return work_orders.annotate(asset_never_monitored=never_monitored("asset_id"))


@dataclass
class SiteRow:
    site: object
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def cells(self) -> list[int]:
        """The counts in the order of `STATUSES` (the table's columns)."""
        return [self.counts[s.value] for s in STATUSES]


@dataclass
class FleetView:
    now: datetime
    start: datetime
    end: datetime
    days: int
    counts: dict[str, int]
    sites: list[SiteRow]
    page: Page
    availability: dict = field(default_factory=dict)
    battery: list[tuple[str, int]] = field(default_factory=list)
    signal: list[tuple[str, int]] = field(default_factory=list)
    firmware: list[tuple[str, int]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def status_counts(self) -> list[tuple[str, str, int]]:
        """(value, label, count) per status, in the order of `STATUSES`."""
        return [(s.value, s.label, self.counts[s.value]) for s in STATUSES]


def fleet_gateways(user, *, site=None, now: datetime):
    """The user's gateways (at `site` if given), with their status at `now`."""
    gateways = Gateway.objects.for_user(user)
    if site is not None:
        gateways = gateways.filter(site=site)
    return gateways.with_connectivity(now)


def _open_fleet_work():
    open_work = (
        WorkOrder.objects.filter(gateway=OuterRef("pk"), status__in=OPEN_STATUSES)
        .order_by()
        .values("gateway")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(open_work, output_field=IntegerField()), 0)


def _histogram(gateways, column: str, buckets) -> list[tuple[str, int]]:
    """How many gateways have `column` in each bucket [low, high), and how many reported
    none; one aggregate query. Labels are short (they stand under a column)."""
    counted = gateways.aggregate(
        **{
            f"b{i}": Count("pk", filter=Q(**{f"{column}__gte": low, f"{column}__lt": high}))
            for i, (low, high) in enumerate(buckets)
        },
        unknown=Count("pk", filter=Q(**{f"{column}__isnull": True})),
    )
    rows = []
    for i, (low, high) in enumerate(buckets):
        if i == 0:
            name = f"< {high}"
        elif i == len(buckets) - 1:
            name = f"≥ {low}"
        else:
            name = f"{low}\u2013{high}"  # an en dash: "-100-90" would read as minus
        rows.append((name, counted[f"b{i}"]))
    rows.append(("none", counted["unknown"]))
    return rows


def _firmware(gateways) -> list[tuple[str, int]]:
    rows = list(
        gateways.order_by()
        .values("firmware")
        .annotate(n=Count("pk"))
        .order_by("-n", "firmware")
        .values_list("firmware", "n")
    )
    named = [(version or "not reported", n) for version, n in rows[:FIRMWARE_LIMIT]]
    rest = sum(n for _, n in rows[FIRMWARE_LIMIT:])
    return named + ([("other versions", rest)] if rest else [])


def fleet_view(user, *, sites, site=None, now: datetime, days: int = 7, page_number=1) -> FleetView:
    """Everything the fleet page shows, for the user's sites (or one): status counts per site,
    one page of gateways (worst first) with availability over the last `days` and open fleet
    work, and the battery, signal and firmware distributions. A fixed number of queries."""
    gateways = fleet_gateways(user, site=site, now=now)
    per_site = {}
    for site_id, status, n in (
        gateways.order_by()
        .values("site_id", "status")
        .annotate(n=Count("pk"))
        .values_list("site_id", "status", "n")
    ):
        per_site.setdefault(site_id, {s.value: 0 for s in STATUSES})[status] = n
    counts = {s.value: 0 for s in STATUSES}
    rows = []
    for each in sites.select_related("customer"):
        if site is not None and each.pk != site.pk:
            continue
        site_counts = per_site.get(each.pk, {s.value: 0 for s in STATUSES})
        for status, n in site_counts.items():
            counts[status] += n
        rows.append(SiteRow(each, site_counts))
    listed = (
        gateways.select_related("site", "asset")
        .annotate(open_fleet_work=_open_fleet_work())
        .order_by(_worst_first(), "site__code", "name", "pk")
    )
    paginator = Paginator(listed, PAGE_SIZE)
    paginator.count = sum(counts.values())  # already counted above: no COUNT(*) again
    page = paginator.get_page(page_number)
    page.object_list = list(page.object_list)
    start = now - timedelta(days=days)
    by_gateway = availability_by_gateway(page.object_list, start=start, end=now)
    for gateway in page.object_list:
        gateway.availability = by_gateway[gateway.pk]
    return FleetView(
        now=now,
        start=start,
        end=now,
        days=days,
        counts=counts,
        sites=rows,
        page=page,
        availability=by_gateway,
        battery=_histogram(gateways, "battery_percent", BATTERY_BUCKETS),
        signal=_histogram(gateways, "signal_dbm", SIGNAL_BUCKETS),
        firmware=_firmware(gateways),
    )


def _worst_first():
    """Offline first, then late, never seen, online: what needs someone on top."""
    rank = {Connectivity.OFFLINE: 0, Connectivity.LATE: 1, Connectivity.NEVER_SEEN: 2}
    return Case(
        *[When(status=s.value, then=Value(r)) for s, r in rank.items()],
        default=Value(3),
        output_field=IntegerField(),
    )
