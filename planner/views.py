"""The planner pages inside the admin: dashboard, triage queue and dispatch board.

Served by the admin site (`CmmsAdminSite.get_urls` wraps each in `admin_view`), so only
superusers and staff planners get in, and every query starts from `for_user`. Views read
through `workorders.selectors` and write through services; they only parse and render.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, Q, Value, When, Window
from django.db.models.functions import RowNumber
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from alerts import services as alert_services
from alerts.choices import AlertStatus
from alerts.models import Alert
from assets.models import Asset, Site
from cmms import charts
from cmms.errors import SERVICE_ERRORS, refusal_for
from cmms.inputs import day_in_range, parse_id
from condition import selectors as condition_selectors
from contracts.attainment import DEFINITION as SLA_ATTAINMENT_DEFINITION
from fleet import selectors as fleet_selectors
from gateways.choices import Connectivity
from monitoring.models import MonitoredMeasurement
from pipeline.choices import Severity
from planner import selectors as planner_selectors
from planner.forms import DispatchForm, FleetForm, SitePeriodForm
from planner.services import work_order_dispatch, work_order_merge
from pm import selectors as pm_selectors
from pm.models import RoundRun
from workorders import policy, selectors
from workorders import services as wo_services
from workorders.choices import OPEN_STATUSES, Status
from workorders.models import WorkOrder

QUEUE_LIMIT = 100
REJECT_DEFAULT = "rejected by planner"


def _context(request, title: str, **extra) -> dict:
    return {**admin.site.each_context(request), "title": title, **extra}


def _zone(site) -> ZoneInfo:
    return ZoneInfo(site.timezone) if site else timezone.get_current_timezone()


# ---------------------------------------------------------------- dashboard


def dashboard(request):
    """KPIs over a period for one site or all the planner's sites, with SVG charts."""
    user = request.user
    sites = Site.objects.for_user(user).order_by("code")
    form = SitePeriodForm(request.GET or None, sites=sites)
    site = form.cleaned_data.get("site") if form.is_valid() else None
    start, end = form.period(_zone(site))
    work_orders = WorkOrder.objects.for_user(user)
    alerts = Alert.objects.for_user(user)
    assets = Asset.objects.for_user(user)
    if site is not None:
        work_orders = work_orders.filter(site=site)
        alerts = alerts.filter(site=site)
        assets = assets.filter(site=site)
    snapshot = None
    custom_period = form.is_valid() and form.cleaned_data.get("start")
    if site is None and not custom_period:
        # Several sites over a standard period: the figures beat keeps, when it has them.
        snapshot = planner_selectors.dashboard_snapshot(
            sites.values_list("pk", flat=True), start, end
        )
    kpis = selectors.dashboard(
        work_orders=work_orders,
        alerts=alerts,
        assets=assets,
        start=start,
        end=end,
        now=timezone.now(),
        period=snapshot.figures if snapshot else None,
    )
    runs = RoundRun.objects.for_user(user)
    if site is not None:
        runs = runs.filter(route__site=site)
    route_rows = pm_selectors.route_compliance(runs, start=start, end=min(end, kpis.now))
    monitored = MonitoredMeasurement.objects.for_user(user)
    if site is not None:
        monitored = monitored.filter(site=site)
    context = _context(
        request,
        "Planner dashboard",
        predicted=condition_selectors.predicted_failures(monitored, now=kpis.now),
        predicted_definition=condition_selectors.PREDICTED_FAILURES_DEFINITION,
        routes=route_rows,
        routes_total=pm_selectors.route_compliance_total(route_rows),
        routes_definition=pm_selectors.ROUTE_COMPLIANCE_DEFINITION,
        form=form,
        site=site,
        kpis=kpis,
        computed_at=snapshot.computed_at if snapshot else None,
        last_day=end - timedelta(days=1),
        charts=_dashboard_charts(kpis),
        sla=planner_selectors.sla_attainment_months(work_orders, zone=_zone(site), now=kpis.now),
        sla_definition=SLA_ATTAINMENT_DEFINITION,
        age_buckets=[label for label, *_ in selectors.AGE_BUCKETS],
        changelist=reverse("admin:workorders_workorder_changelist"),
    )
    return TemplateResponse(request, "admin/planner/dashboard.html", context)


def _dashboard_charts(kpis: selectors.Dashboard) -> dict:
    """The dashboard's SVG charts, by name."""
    return {
        "backlog": _backlog_chart(kpis),
        "pm": _pm_chart(kpis.pm),
        "planned": _planned_chart(kpis.planned.weeks),
        **_reliability_charts(kpis.reliability),
        "funnel": charts.funnel(label="Alert to work order funnel", steps=kpis.funnel.steps),
        "top": _top_assets_chart(kpis.top_assets),
    }


def _backlog_chart(kpis: selectors.Dashboard) -> charts.Chart:
    return charts.stacked_columns(
        label="Open work orders by age, stacked by priority",
        categories=[label for label, *_ in selectors.AGE_BUCKETS],
        series=[
            (row.label, row.by_age, charts.PRIORITY_COLOURS[i])
            for i, row in enumerate(kpis.backlog)
        ],
    )


def _pm_chart(pm) -> charts.Chart:
    return charts.percent_bar(
        label="PM work orders due in the period",
        parts=[
            ("on time", pm.on_time, charts.ON_TIME),
            ("late", pm.late, charts.LATE),
            ("not done", pm.not_done, charts.NOT_DONE),
        ],
    )


def _planned_chart(weeks) -> charts.Chart:
    return charts.stacked_columns(
        label="Work orders created per week: planned and unplanned",
        categories=[f"{w.week:%d %b}" for w in weeks],
        series=[
            ("planned", [w.planned for w in weeks], charts.PLANNED),
            ("unplanned", [w.unplanned for w in weeks], charts.UNPLANNED),
        ],
        width=max(520, 56 * len(weeks) + 60),
    )


def _reliability_charts(reliability) -> dict:
    """MTTR and MTBF per equipment class (classes without a figure are left out)."""
    mttr = charts.horizontal_bars(
        label="Mean time to repair per equipment class, hours",
        rows=[
            (r.equipment_class, r.mttr_hours, f"{r.repairs} repairs, MTTR {r.mttr_hours} h")
            for r in reliability
            if r.mttr_hours is not None
        ],
        unit=" h",
        colour="#e8590c",
    )
    mtbf = charts.horizontal_bars(
        label="Mean time between failures per equipment class, hours",
        rows=[
            (
                r.equipment_class,
                r.mtbf_hours,
                f"{r.failures} failures on {r.assets} assets, MTBF {r.mtbf_hours} h",
            )
            for r in reliability
            if r.mtbf_hours is not None
        ],
        unit=" h",
        colour="#2f9e44",
    )
    return {"mttr": mttr, "mtbf": mtbf}


def _top_assets_chart(top_assets) -> charts.Chart:
    return charts.horizontal_bars(
        label="Assets with the most failures",
        rows=[
            (
                f"{a.tag} ({a.site})",
                a.failures,
                f"{a.tag} {a.name}: {a.failures} failures, {a.repair_hours} repair hours",
            )
            for a in top_assets
        ],
        colour="#b42318",
    )


# ---------------------------------------------------------------- triage


SEVERITY_ORDER = Case(
    *[When(severity=s, then=Value(Severity.rank(s))) for s in Severity.values],
    default=Value(0),
    output_field=IntegerField(),
)


@require_http_methods(["GET", "POST"])
def triage(request):
    """Requested work and unmatched alerts in one queue, most urgent and newest first."""
    if request.method == "POST":
        _triage_action(request)
        return HttpResponseRedirect(request.get_full_path())
    user = request.user
    sites = Site.objects.for_user(user).order_by("code")
    site = _chosen_site(request, sites, required=False)
    requests = WorkOrder.objects.for_user(user).filter(status=Status.REQUESTED)
    unmatched = Alert.objects.for_user(user).filter(status=AlertStatus.UNMATCHED)
    if site is not None:
        requests, unmatched = requests.filter(site=site), unmatched.filter(site=site)
    request_rows = list(
        fleet_selectors.work_orders_with_monitoring(requests)
        .select_related("site", "asset", "requested_by")
        .order_by("priority", "-created_at", "-id")[:QUEUE_LIMIT]
    )
    _attach_duplicate_candidates(user, request_rows)
    alert_rows = list(
        unmatched.select_related("site", "gateway")
        .annotate(rank=SEVERITY_ORDER)
        .order_by("-rank", "-received_at", "-id")[:QUEUE_LIMIT]
    )
    context = _context(
        request,
        "Triage queue",
        sites=sites,
        site=site,
        requests=request_rows,
        requests_total=_total(request_rows, requests),
        alerts=alert_rows,
        alerts_total=_total(alert_rows, unmatched),
        tags=_asset_tags(user, alert_rows),
        reject_default=REJECT_DEFAULT,
    )
    return TemplateResponse(request, "admin/planner/triage.html", context)


def _total(rows: list, queryset) -> int:
    return len(rows) if len(rows) < QUEUE_LIMIT else queryset.count()


def _attach_duplicate_candidates(user, requests: list[WorkOrder]) -> None:
    """Per request: other open work on the same asset (the likely originals), one query."""
    asset_ids = {r.asset_id for r in requests if r.asset_id}
    open_work = []
    if asset_ids:
        open_work = list(
            WorkOrder.objects.for_user(user)
            .filter(asset_id__in=asset_ids, status__in=OPEN_STATUSES)
            .only("id", "number", "title", "status", "asset_id")
            .order_by("created_at")
        )
    for row in requests:
        row.duplicate_candidates = [
            w for w in open_work if w.asset_id == row.asset_id and w.pk != row.pk
        ]


TAG_SUGGESTIONS = 50  # asset tags suggested per site in the map form


def _asset_tags(user, alerts: list[Alert]) -> dict[int, list[tuple[str, str]]]:
    """Per site with unmatched alerts, the tag input's suggestions: up to `TAG_SUGGESTIONS`
    assets whose tag starts like a tag sent there (its first two characters), in tag order.
    One query; a site's whole asset list (thousands) is never sent."""
    tags: dict[int, list[tuple[str, str]]] = {a.site_id: [] for a in alerts}
    like_sent = Q()
    for site_id, prefix in {(a.site_id, a.asset_tag[:2]) for a in alerts}:
        like_sent |= Q(site_id=site_id, tag__istartswith=prefix)
    if tags:
        rows = (
            Asset.objects.for_user(user)
            .filter(like_sent)
            .annotate(rank=Window(RowNumber(), partition_by="site_id", order_by="tag"))
            .filter(rank__lte=TAG_SUGGESTIONS)
            .order_by("site_id", "tag")
            .values_list("site_id", "tag", "name")
        )
        for site_id, tag, name in rows:
            tags[site_id].append((tag, name))
    return tags


def _triage_action(request) -> None:
    """Run one triage decision from the queue's POST and say what happened."""
    user, data = request.user, request.POST
    op = data.get("op")
    try:
        if op in ("approve", "reject", "merge"):
            work_order = get_object_or_404(WorkOrder.objects.for_user(user), pk=_posted_id(data))
            if op == "approve":
                wo_services.work_order_transition(
                    work_order=work_order, to=Status.APPROVED, by=user
                )
                messages.success(request, f"Approved {work_order.number}.")
            elif op == "reject":
                reason = data.get("reason", "").strip() or REJECT_DEFAULT
                wo_services.work_order_transition(
                    work_order=work_order, to=Status.CANCELLED, by=user, reason=reason
                )
                messages.success(request, f"Rejected {work_order.number}: {reason}.")
            else:
                into = _work_order_by_number(user, data.get("into", ""))
                work_order_merge(duplicate=work_order, into=into, by=user)
                messages.success(request, f"Merged {work_order.number} into {into.number}.")
        elif op == "map":
            alert = get_object_or_404(
                Alert.objects.for_user(user).select_related("site"), pk=_posted_id(data)
            )
            tag = data.get("tag", "").strip()
            asset = (
                Asset.objects.for_user(user).filter(site_id=alert.site_id, tag__iexact=tag).first()
            )
            if asset is None:
                raise ValidationError({"tag": f"No asset tagged {tag!r} at {alert.site.code}."})
            count = alert_services.alerts_map_to_asset(
                alerts=Alert.objects.filter(pk=alert.pk), asset=asset, by=user
            )
            if count:
                messages.success(
                    request, f"Alert {alert.alert_id} mapped to {asset.tag}; sent for processing."
                )
            else:
                messages.warning(request, f"Alert {alert.alert_id} is no longer unmatched.")
        else:
            messages.error(request, "Unknown triage action.")
    except SERVICE_ERRORS as error:
        messages.error(request, f"Refused: {refusal_for(error).message}")


def _posted_id(data) -> int:
    """The row id a triage form posts; 0 (no such row: a 404) when it is not an id."""
    return parse_id(data.get("id", "")) or 0


def _work_order_by_number(user, number: str) -> WorkOrder:
    number = WorkOrder.number_typed(number)
    found = WorkOrder.objects.for_user(user).filter(number=number).first()
    if found is None:
        raise ValidationError({"into": f"No work order {number or '(none given)'} at your sites."})
    return found


# ---------------------------------------------------------------- dispatch board


def _chosen_site(request, sites, *, required: bool):
    site_id = parse_id(request.GET.get("site", ""))
    if site_id is not None:
        site = sites.filter(pk=site_id).first()
        if site is not None:
            return site
    return sites.first() if required else None


def _monday(request, zone) -> date:
    try:
        day = datetime.strptime(request.GET.get("week", ""), "%Y-%m-%d").date()
    except ValueError:
        day = timezone.localdate(timezone=zone)
    if not day_in_range(day):
        day = timezone.localdate(timezone=zone)
    return day - timedelta(days=day.weekday())


WAITING_LIMIT = 50
CELL_LIMIT = 8  # cards drawn per technician and day; the day's hours count all its work


@require_http_methods(["GET", "POST"])
def dispatch(request):
    """A week of scheduled work per technician per day at one site, with each one's load.

    Only technicians with work there that week have a row (scheduled work, or waiting work
    assigned to them), and those the planner adds with the chooser (`?tech=`): the page grows
    with the week's work, not with the roster.
    """
    user = request.user
    sites = Site.objects.for_user(user).order_by("code")
    site = _chosen_site(request, sites, required=True)
    if site is None:
        return TemplateResponse(
            request, "admin/planner/dispatch.html", _context(request, "Dispatch board", site=None)
        )
    zone = _zone(site)
    technicians = policy.assignable_technicians(user, site=site).order_by("first_name", "username")
    if request.method == "POST":
        _dispatch_action(request, site, zone, technicians)
        return HttpResponseRedirect(request.get_full_path())
    monday = _monday(request, zone)
    days = [monday + timedelta(days=i) for i in range(7)]
    work_orders = WorkOrder.objects.for_user(user).filter(site=site)
    board = selectors.technician_load(work_orders, technicians, days=days, zone=zone)
    to_dispatch = list(
        work_orders.filter(status__in=(Status.APPROVED, Status.SCHEDULED))
        .exclude(assignee__isnull=False, scheduled_start__isnull=False)
        .select_related("asset", "assignee")
        .order_by("priority", "due_at")[:WAITING_LIMIT]
    )
    roster = list(technicians)
    added = _added_technicians(request, roster)
    on_board = set(board) | {wo.assignee_id for wo in to_dispatch} | added
    shown = [tech for tech in roster if tech.pk in on_board]
    rows = [_board_row(t, board.get(t.pk) or selectors.empty_week(days), days) for t in shown]
    context = _context(
        request,
        f"Dispatch board: {site.code}",
        sites=sites,
        site=site,
        days=days,
        rows=rows,
        to_dispatch=to_dispatch,
        technicians=shown,
        others=[tech for tech in roster if tech.pk not in on_board],
        added=sorted(added),
        previous_week=monday - timedelta(days=7),
        next_week=monday + timedelta(days=7),
        today=timezone.localdate(timezone=zone),
        zone=zone,
    )
    return TemplateResponse(request, "admin/planner/dispatch.html", context)


def _added_technicians(request, roster: list) -> set[int]:
    """The technicians the planner put on the board with the chooser (`?tech=`), of the roster."""
    wanted = {parse_id(value) for value in request.GET.getlist("tech")}
    return {tech.pk for tech in roster if tech.pk in wanted}


def _board_row(technician, cells: dict, days: list) -> dict:
    """One technician's week: each day's work (the first `CELL_LIMIT` cards, and how many more),
    hours against available hours, and load bar."""
    available = technician.available_hours_per_day
    row_cells = []
    for day in days:
        cell = cells[day]
        capacity = available if day.weekday() < 5 else 0
        hours = cell["hours"]
        load = float(100 * hours / capacity) if capacity else (100.0 if hours else 0.0)
        level = "over" if load > 100 else "busy" if load >= 80 else "ok"
        row_cells.append(
            {
                "day": day,
                "orders": cell["orders"][:CELL_LIMIT],
                "more": len(cell["orders"][CELL_LIMIT:]),
                "hours": hours,
                "capacity": capacity,
                "load": round(load),
                "bar": min(load, 100),
                "level": level,
            }
        )
    week_hours = sum(c["hours"] for c in row_cells)
    week_capacity = sum(c["capacity"] for c in row_cells)
    return {
        "technician": technician,
        "cells": row_cells,
        "hours": week_hours,
        "capacity": week_capacity,
        "load": round(float(100 * week_hours / week_capacity)) if week_capacity else 0,
    }


def _dispatch_action(request, site, zone, technicians) -> None:
    form = DispatchForm(request.POST, technicians=technicians)
    if not form.is_valid():
        errors = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
        messages.error(request, f"Not moved: {errors}")
        return
    data = form.cleaned_data
    work_order = get_object_or_404(
        WorkOrder.objects.for_user(request.user).filter(site=site), pk=data["work_order"]
    )
    start = datetime.combine(data["day"], data["time"] or time(7), tzinfo=zone)
    try:
        work_order_dispatch(
            work_order=work_order, assignee=data["assignee"], scheduled_start=start, by=request.user
        )
    except SERVICE_ERRORS as error:
        messages.error(request, f"Refused {work_order.number}: {refusal_for(error).message}")
        return
    name = data["assignee"].get_full_name() or data["assignee"].username
    messages.success(
        request, f"{work_order.number} dispatched to {name} on {start:%a %d %b %H:%M}."
    )


# ---------------------------------------------------------------- IIoT fleet


STATUS_COLOURS = {
    Connectivity.ONLINE: charts.ON_TIME,
    Connectivity.LATE: charts.LATE,
    Connectivity.OFFLINE: charts.NOT_DONE,
    Connectivity.NEVER_SEEN: "#868e96",
}
AVAILABILITY_CHART_ROWS = 20


def fleet(request):
    """The partner's gateways per customer and site: how many are online, late, offline or
    never seen, a page of gateways (worst first) with their health and availability, and the
    battery, signal and firmware distributions. Bounded: one page of gateways at a time."""
    user = request.user
    sites = Site.objects.for_user(user).order_by("code")
    form = FleetForm(request.GET or None, sites=sites)
    data = form.cleaned_data if form.is_valid() else {}
    site = data.get("site")
    view = fleet_selectors.fleet_view(
        user,
        sites=sites,
        site=site,
        now=timezone.now(),
        days=data.get("days") or 7,
        page_number=data.get("page") or 1,
    )
    context = _context(
        request,
        "IIoT fleet",
        form=form,
        site=site,
        fleet=view,
        statuses=[(s.value, s.label) for s in fleet_selectors.STATUSES],
        charts=_fleet_charts(view),
        query=_query_without_page(request),
    )
    status = 200 if form.is_valid() or not request.GET else 400
    return TemplateResponse(request, "admin/planner/fleet.html", context, status=status)


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _fleet_charts(view: fleet_selectors.FleetView) -> dict:
    """The fleet page's SVG charts, by name."""
    rated = [g for g in view.page.object_list if g.availability.percent is not None]
    rated.sort(key=lambda g: (g.availability.percent, g.name))
    return {
        "status": charts.percent_bar(
            label="Gateways by status now",
            parts=[
                (s.label.lower(), view.counts[s.value], STATUS_COLOURS[s])
                for s in fleet_selectors.STATUSES
            ],
        ),
        "battery": charts.stacked_columns(
            label="Gateways by battery level, percent",
            categories=[name for name, _ in view.battery],
            series=[("gateways", [n for _, n in view.battery], "#1c7ed6")],
            counts=True,
        ),
        "signal": charts.stacked_columns(
            label="Gateways by signal strength, dBm",
            categories=[name for name, _ in view.signal],
            series=[("gateways", [n for _, n in view.signal], "#7048e8")],
            counts=True,
        ),
        "firmware": charts.horizontal_bars(
            label="Gateways by firmware version",
            rows=[(version, n, f"{version}: {n} gateways") for version, n in view.firmware],
            colour="#1c7ed6",
        ),
        "availability": charts.horizontal_bars(
            label=f"Availability over the last {view.days} days, least available first, percent",
            rows=[
                (
                    g.name,
                    g.availability.percent,
                    f"{g.name} ({g.site.code}): {g.availability.percent} % available",
                )
                for g in rated[:AVAILABILITY_CHART_ROWS]
            ],
            unit=" %",
            colour="#2f9e44",
            scale_max=100,
        ),
    }
