"""Small reads for the planner pages that are not KPIs (those are in `workorders.selectors`)."""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django.core.cache import cache
from django.utils import timezone

from alerts.choices import AlertStatus
from alerts.models import Alert
from contracts.attainment import Attainment, attainment_by_contract
from contracts.models import Contract
from workorders.choices import Status
from workorders.models import WorkOrder
from workorders.selectors import PeriodFigures

# Beat keeps the figures of these periods for the planners' sets of several sites
# (`planner.services.dashboard_snapshots_refresh`); one site's figures are read live.
SNAPSHOT_PERIODS = (30, 90, 365)
SNAPSHOT_EVERY_SECONDS = 10 * 60
SNAPSHOT_KEPT_SECONDS = 2 * SNAPSHOT_EVERY_SECONDS + 60


@dataclass
class DashboardSnapshot:
    """A period's figures for a set of sites, as computed by beat at `computed_at`."""

    figures: PeriodFigures
    computed_at: datetime


def dashboard_snapshot_key(site_ids, start: datetime, end: datetime) -> str:
    """The cache key of the figures of exactly these sites over exactly this period."""
    sites = ",".join(str(pk) for pk in sorted(site_ids))
    return f"planner:dashboard:v1:{sites}:{start.isoformat()}:{end.isoformat()}"


def dashboard_snapshot(site_ids, start: datetime, end: datetime) -> DashboardSnapshot | None:
    """The figures beat computed for these sites and period, if it has (none after
    `SNAPSHOT_KEPT_SECONDS`: the page then reads them live)."""
    return cache.get(dashboard_snapshot_key(site_ids, start, end))


def index_counts(user) -> dict[str, int]:
    """What is burning, for the admin index: three counts over the user's sites."""
    work_orders = WorkOrder.objects.for_user(user)
    return {
        "requested": work_orders.filter(status=Status.REQUESTED).count(),
        "unmatched": Alert.objects.for_user(user).filter(status=AlertStatus.UNMATCHED).count(),
        "overdue": work_orders.overdue(timezone.now()).count(),
    }


@dataclass
class ContractAttainmentRow:
    """One contract's SLA attainment this month and last month (the dashboard's KPI)."""

    contract: Contract
    current: Attainment
    last: Attainment


def month_bounds(now: datetime, zone) -> dict[str, tuple[datetime, datetime]]:
    """{"current": this month so far, "last": the month before}, as UTC instants of the
    months' midnights in `zone` (UTC, so a daylight-saving hour is counted)."""
    first = timezone.localdate(now, timezone=zone).replace(day=1)
    previous = (first - timedelta(days=1)).replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    start, middle, end = (
        datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)
        for day in (previous, first, following)
    )
    return {"current": (middle, end), "last": (start, middle)}


def sla_attainment_months(work_orders, *, zone, now: datetime) -> list[ContractAttainmentRow]:
    """SLA attainment per contract with work judged this month or last (`contracts.attainment`),
    from the scoped work orders: two queries whatever the amount of work."""
    by_contract = attainment_by_contract(work_orders, periods=month_bounds(now, zone), now=now)
    if not by_contract:
        return []
    contracts = Contract.objects.filter(pk__in=list(by_contract)).order_by("reference")
    return [
        ContractAttainmentRow(
            contract=c, current=by_contract[c.pk]["current"], last=by_contract[c.pk]["last"]
        )
        for c in contracts
    ]
