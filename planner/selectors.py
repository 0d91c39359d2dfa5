"""Small reads for the planner pages that are not KPIs (those are in `workorders.selectors`)."""

from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.utils import timezone

from alerts.choices import AlertStatus
from alerts.models import Alert
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
