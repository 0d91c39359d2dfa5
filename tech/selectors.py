"""Reads for the technician pages: each page is a fixed, small number of queries."""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Prefetch, Q
from django.utils import timezone

from alerts.models import Alert
from assets.models import Asset, MeterReading, Stock, StockMovement
from workorders import policy
from workorders.choices import OPEN_STATUSES, FailureCodeKind
from workorders.models import (
    FailureCode,
    LabourEntry,
    PartReservation,
    StatusChange,
    WorkOrder,
    WorkOrderEvent,
)
from workorders.search import work_orders_by_number_or_tag

LIST_LIMIT = 50


def _list_queryset(user):
    return WorkOrder.objects.for_user(user).select_related("asset", "site", "assignee")


@dataclass
class MyWork:
    overdue: list = field(default_factory=list)
    today: list = field(default_factory=list)
    upcoming: list = field(default_factory=list)
    pickable: list = field(default_factory=list)

    @property
    def assigned_count(self) -> int:
        return len(self.overdue) + len(self.today) + len(self.upcoming)


def _end_of_today(now: datetime, zone_name: str) -> datetime:
    """The next local midnight at a site: "today" is the plant's day, not the server's."""
    zone = ZoneInfo(zone_name)
    tomorrow = timezone.localdate(now, timezone=zone) + timedelta(days=1)
    return datetime.combine(tomorrow, time.min, tzinfo=zone)


def my_work(user, *, now: datetime | None = None) -> MyWork:
    """The user's open work grouped as overdue / due today / upcoming, by priority and due time,
    plus unassigned work at their sites that they may pick up. Two queries.

    "Today" ends at midnight in each work order's own site time zone.
    """
    now = now or timezone.now()
    work = MyWork()
    assigned = (
        _list_queryset(user)
        .filter(assignee=user, status__in=OPEN_STATUSES)
        .order_by("priority", "due_at", "id")
    )
    for wo in assigned:
        if wo.due_at is not None and wo.due_at < now:
            work.overdue.append(wo)
        elif wo.due_at is not None and wo.due_at < _end_of_today(now, wo.site.timezone):
            work.today.append(wo)
        else:
            work.upcoming.append(wo)
    work.pickable = list(
        _list_queryset(user)
        .filter(assignee__isnull=True, status__in=policy.PICK_UP_STATUSES)
        .order_by("priority", "due_at", "id")[:LIST_LIMIT]
    )
    return work


def site_work(user, *, open_only: bool = True):
    """All work of the user's sites (customer viewers and planners): newest first, bounded."""
    qs = _list_queryset(user)
    if open_only:
        qs = qs.filter(status__in=OPEN_STATUSES).order_by("priority", "due_at", "id")
    else:
        qs = qs.exclude(status__in=OPEN_STATUSES).order_by("-completed_at", "-id")
    return list(qs[:LIST_LIMIT])


def search_work(user, query: str):
    """Work orders whose number starts with the query (`42` is WO-000042) or whose asset's tag
    is the query; both from indexes (`workorders.search`)."""
    query = query.strip()
    if not query:
        return []
    assets = Asset.objects.for_user(user)
    qs = work_orders_by_number_or_tag(_list_queryset(user), query, assets=assets)
    return list(qs.order_by("-created_at", "-id")[:LIST_LIMIT])


def search_assets(user, query: str):
    query = query.strip()
    if not query:
        return []
    qs = (
        Asset.objects.for_user(user)
        .select_related("site")
        .filter(tag__istartswith=query)  # the exact tag too; a trigram index on PostgreSQL
    )
    return list(qs.order_by("tag")[:LIST_LIMIT])


def work_order_for_page(user, pk: int) -> WorkOrder:
    """One work order with everything its page shows, in a fixed number of queries.

    Raises WorkOrder.DoesNotExist for another site's work (the view answers 404).
    """
    related = ["site", "asset", "assignee", "problem", "cause", "remedy"]
    related += ["job_plan", "alert_rule", "pm_plan"]
    return (
        WorkOrder.objects.for_user(user)
        .select_related(*related)
        .prefetch_related(
            "steps__done_by",
            Prefetch(
                "alerts",
                queryset=Alert.objects.order_by("observed_at", "id").only(
                    "id",
                    "work_order_id",
                    "condition",
                    "severity",
                    "state",
                    "value",
                    "unit",
                    "threshold",
                    "observed_at",
                    "message",
                ),
            ),
            Prefetch(
                "labour", queryset=LabourEntry.objects.select_related("technician").order_by("id")
            ),
            Prefetch(
                "reservations",
                queryset=PartReservation.objects.select_related("stock__part", "stock__storeroom"),
            ),
            Prefetch("history", queryset=StatusChange.objects.select_related("changed_by")),
            Prefetch("events", queryset=WorkOrderEvent.objects.select_related("created_by")),
            "photos",
            Prefetch("stock_movements", queryset=_movements()),
        )
        .get(pk=pk)
    )


def _movements():
    return StockMovement.objects.select_related("stock__part", "stock__storeroom", "created_by")


def asset_path(asset) -> list:
    """The asset's ancestors from the site's root down (one query)."""
    if asset is None:
        return []
    return list(Asset.objects.ancestors_of(asset).only("id", "tag", "name", "depth"))


def failure_code_choices() -> dict[str, list]:
    """Problem, cause and remedy codes for the completion form, in one query."""
    kinds = (FailureCodeKind.PROBLEM, FailureCodeKind.CAUSE, FailureCodeKind.REMEDY)
    codes = {kind: [] for kind in kinds}
    for code in FailureCode.objects.filter(kind__in=kinds).order_by("code"):
        codes[code.kind].append(code)
    return codes


def storeroom_stock(user, work_order: WorkOrder, query: str):
    """Stock of the work order's site matching a part SKU or name (for issuing parts)."""
    query = query.strip()
    if not query:
        return []
    qs = (
        Stock.objects.for_user(user)
        .filter(storeroom__site_id=work_order.site_id)
        .filter(Q(part__sku__icontains=query) | Q(part__name__icontains=query))
        .select_related("part", "storeroom")
        .order_by("part__sku", "storeroom__code")
    )
    return list(qs[:20])


def asset_for_page(user, pk: int):
    """An asset with its site, meters (with the latest reading) and criticality. Raises
    Asset.DoesNotExist for another site's asset.
    """
    return (
        Asset.objects.for_user(user)
        .select_related("site", "equipment_class", "parent")
        .prefetch_related("meters")
        .get(pk=pk)
    )


def latest_readings(meters) -> dict[int, MeterReading]:
    """The latest reading of each meter (one query, DISTINCT ON on PostgreSQL)."""
    ids = [m.pk for m in meters]
    if not ids:
        return {}
    readings = MeterReading.objects.filter(meter_id__in=ids).order_by("meter_id", "-observed_at")

    if connection.vendor == "postgresql":
        return {r.meter_id: r for r in readings.distinct("meter_id")}
    latest = {}
    for reading in readings:
        latest.setdefault(reading.meter_id, reading)
    return latest


def asset_work(user, asset):
    """(open work, last 20 finished) on an asset: two queries."""
    qs = _list_queryset(user).filter(asset=asset)
    open_work = list(qs.filter(status__in=OPEN_STATUSES).order_by("priority", "due_at", "id"))
    history = list(qs.exclude(status__in=OPEN_STATUSES).order_by("-completed_at", "-id")[:20])
    return open_work, history
