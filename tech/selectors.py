"""Reads for the technician pages: each page is a fixed, small number of queries."""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Case, CharField, Count, F, Prefetch, Q, Value, When, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from alerts.models import Alert
from assets.models import Asset, IsolationPoint, MeterReading, Site, Stock, StockMovement
from contracts.choices import ClientApproval
from fleet.selectors import with_monitoring, work_orders_with_monitoring
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
GROUP_SIZE = 10  # rows of each group on my work and our work; the rest is a link away
PAGE_SIZE = 25  # rows of a page of one whole group
NEXT_DAYS = 7  # "upcoming": the days after today that my work shows


def _list_queryset(user):
    return WorkOrder.objects.for_user(user).select_related("asset", "site", "assignee")


# Work without a due date comes after dated work, on every database (PostgreSQL sorts NULL
# last in ascending order, SQLite first).
_BY_URGENCY = (F("priority").asc(), F("due_at").asc(nulls_last=True), F("id").asc())
_NEWEST_FINISHED = ("-completed_at", "-id")


@dataclass
class Group:
    """One group of a work list: its first rows, and whether (and how much) more there is.

    `total` is None where counting would grow with the history (finished work, unassigned
    work at every site); `more` then comes from reading one row past the shown ones.
    """

    key: str
    title: str
    rows: list = field(default_factory=list)
    total: int | None = None
    more: bool = False

    @property
    def count_text(self) -> str:
        if self.total is not None:
            return str(self.total)
        return f"{len(self.rows)}+" if self.more else str(len(self.rows))


# The groups of my work (technicians and planners) and of our work (customer viewers), in page
# order. Each can be listed whole, page by page: `/tech/?list=<key>&page=<n>`.
MY_WORK_GROUPS = {
    "overdue": "Overdue",
    "today": "Today",
    "upcoming": f"Next {NEXT_DAYS} days",
    "later": "Later or without a due date",
    "unassigned": "Unassigned at my sites",
}
SITE_WORK_GROUPS = {"open": "Open", "finished": "Recently finished"}


def work_groups(user) -> dict[str, str]:
    """The groups the user's work page shows: key -> title."""
    return SITE_WORK_GROUPS if user.is_customer_viewer else MY_WORK_GROUPS


@dataclass
class MyWork:
    overdue: Group
    today: Group
    upcoming: Group
    later: Group
    pickable: Group

    @property
    def assigned(self) -> list[Group]:
        return [self.overdue, self.today, self.upcoming, self.later]

    @property
    def assigned_count(self) -> int:
        return sum(group.total for group in self.assigned)


def _local_midnight(now: datetime, zone: ZoneInfo, days_ahead: int) -> datetime:
    """Midnight at the start of the day `days_ahead` days after today, in the zone."""
    day = timezone.localdate(now, timezone=zone) + timedelta(days=days_ahead)
    return datetime.combine(day, time.min, tzinfo=zone)


def _assigned_groups(user, now: datetime) -> dict[str, Q]:
    """The conditions that split open work by due date: overdue, today, the next days, later.

    "Today" and "the next days" end at midnight in each work order's own site time zone, so
    the split is one condition per time zone of the user's sites (one query reads them).
    """
    zones: dict[str, list[int]] = {}
    for site_id, zone in Site.objects.for_user(user).order_by().values_list("id", "timezone"):
        zones.setdefault(zone, []).append(site_id)
    later = Q(due_at__isnull=True)
    today = upcoming = Q(pk__in=[])  # no site, no work
    for zone, site_ids in zones.items():
        end_of_today = _local_midnight(now, ZoneInfo(zone), 1)
        end_of_next_days = _local_midnight(now, ZoneInfo(zone), 1 + NEXT_DAYS)
        at_zone = Q(site_id__in=site_ids)
        today |= at_zone & Q(due_at__lt=end_of_today)
        upcoming |= at_zone & Q(due_at__gte=end_of_today, due_at__lt=end_of_next_days)
        later |= at_zone & Q(due_at__gte=end_of_next_days)
    return {
        "overdue": Q(due_at__lt=now),
        "today": Q(due_at__gte=now) & today,
        "upcoming": upcoming,
        "later": later,
    }


def _assigned(user):
    return _list_queryset(user).filter(assignee=user, status__in=OPEN_STATUSES)


def _unassigned(user):
    return _list_queryset(user).filter(assignee__isnull=True, status__in=policy.PICK_UP_STATUSES)


def my_work(user, *, now: datetime | None = None) -> MyWork:
    """The user's open work in groups (overdue, today, the next days, later), each its first
    `GROUP_SIZE` rows by priority and due time with its size, plus the first unassigned work at
    their sites that they may pick up. Three queries (the sites' time zones, the assigned
    groups with their sizes in one windowed query, the unassigned work), whatever the number
    of work orders.
    """
    now = now or timezone.now()
    conditions = _assigned_groups(user, now)
    group_of = Case(
        *(When(conditions[key], then=Value(key)) for key in ("overdue", "today", "upcoming")),
        default=Value("later"),
        output_field=CharField(),
    )
    by_group = {"partition_by": [F("group")], "order_by": list(_BY_URGENCY)}
    rows = (
        _assigned(user)
        .annotate(group=group_of)
        .annotate(
            rank=Window(RowNumber(), **by_group),
            group_size=Window(Count("id"), partition_by=[F("group")]),
        )
        .filter(rank__lte=GROUP_SIZE)
        .order_by(*_BY_URGENCY)
    )
    groups = {key: Group(key, MY_WORK_GROUPS[key], total=0) for key in conditions}
    for work_order in rows:
        group = groups[work_order.group]
        group.rows.append(work_order)
        group.total = work_order.group_size
    for group in groups.values():
        group.more = group.total > len(group.rows)
    pickable = _first_rows(_unassigned(user).order_by(*_BY_URGENCY), "unassigned")
    return MyWork(pickable=pickable, **groups)


def _first_rows(queryset, key: str, *, total: int | None = None) -> Group:
    """The first `GROUP_SIZE` rows of a group; one row more tells whether there are more."""
    rows = list(queryset[: GROUP_SIZE + 1])
    title = {**MY_WORK_GROUPS, **SITE_WORK_GROUPS}[key]
    more = len(rows) > GROUP_SIZE if total is None else total > GROUP_SIZE
    return Group(key, title, rows[:GROUP_SIZE], total=total, more=more)


def _open_at_sites(user):
    return _list_queryset(user).filter(status__in=OPEN_STATUSES).order_by(*_BY_URGENCY)


def _finished_at_sites(user):
    return _list_queryset(user).exclude(status__in=OPEN_STATUSES).order_by(*_NEWEST_FINISHED)


def site_work(user) -> tuple[Group, Group]:
    """Open and recently finished work of the user's sites (customer viewers): the first rows
    of each, the open ones counted (open work does not grow with the history; finished work
    does, so it is not counted). Three queries.
    """
    open_work = _open_at_sites(user)
    return (
        _first_rows(open_work, "open", total=open_work.count()),
        _first_rows(_finished_at_sites(user), "finished"),
    )


def work_page(user, key: str, page: int, *, now: datetime | None = None) -> tuple[list, bool]:
    """One page of a whole group of the user's work page (`PAGE_SIZE` rows) and whether a next
    page follows: one query (two for my assigned groups, which read the sites' time zones).

    Raises KeyError for a group the user's page does not have.
    """
    if key not in work_groups(user):
        raise KeyError(key)
    if key == "open":
        queryset = _open_at_sites(user)
    elif key == "finished":
        queryset = _finished_at_sites(user)
    elif key == "unassigned":
        queryset = _unassigned(user).order_by(*_BY_URGENCY)
    else:
        condition = _assigned_groups(user, now or timezone.now())[key]
        queryset = _assigned(user).filter(condition).order_by(*_BY_URGENCY)
    start = (page - 1) * PAGE_SIZE
    rows = list(queryset[start : start + PAGE_SIZE + 1])
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


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
        work_orders_with_monitoring(WorkOrder.objects.for_user(user))
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
    """An asset with its site, meters (with the latest reading), criticality and whether its
    sensors never reported (`never_monitored`). Raises Asset.DoesNotExist for another site's
    asset.
    """
    return (
        with_monitoring(Asset.objects.for_user(user))
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


ASSET_OPEN_WORK_SHOWN = 20


def asset_work(user, asset) -> tuple[list, int, list]:
    """(the most urgent open work, how much is open, the last 20 finished) on an asset.

    At most ASSET_OPEN_WORK_SHOWN open rows: the count is only read when the rows reach that
    bound (an index count on asset and status). Two or three queries.
    """
    qs = _list_queryset(user).filter(asset=asset)
    open_qs = qs.filter(status__in=OPEN_STATUSES)
    open_work = list(open_qs.order_by(*_BY_URGENCY)[:ASSET_OPEN_WORK_SHOWN])
    open_count = open_qs.count() if len(open_work) == ASSET_OPEN_WORK_SHOWN else len(open_work)
    history = list(qs.exclude(status__in=OPEN_STATUSES).order_by("-completed_at", "-id")[:20])
    return open_work, open_count, history


def awaiting_client_approval(user, *, limit: int = GROUP_SIZE) -> list[WorkOrder]:
    """Work of the user's sites waiting for the client to approve its estimate, oldest
    request first (customer viewers' home page)."""
    return list(
        WorkOrder.objects.for_user(user)
        .filter(client_approval=ClientApproval.PENDING, status__in=OPEN_STATUSES)
        .select_related("site", "asset", "contract__customer")
        .order_by("client_approval_at", "id")[:limit]
    )


def isolation_points(work_order) -> list[IsolationPoint]:
    """The isolation points a work order's safety steps isolate: those of its asset (a work
    order without an asset has none to show)."""
    if work_order.asset_id is None:
        return []
    return list(IsolationPoint.objects.filter(asset_id=work_order.asset_id))
