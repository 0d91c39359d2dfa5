"""Reads of preventive maintenance that are more than a filter: the planner's forecast, PM
compliance, route compliance and a technician's rounds of the day."""

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Value

from pm.choices import OPEN_RUN_STATUSES, RunStatus, Trigger
from pm.models import PMPlan, RoundRun
from pm.services.generation import Target, attach_state, calendar_due_dates, plan_targets
from workorders.choices import OPEN_STATUSES, Source

FORECAST_CHUNK = 1000
MAX_PER_TARGET = 400


@dataclass
class ForecastItem:
    plan: int
    plan_name: str
    site: int
    site_timezone: str
    asset: int
    asset_tag: str
    trigger: str
    due_at: datetime
    generate_at: datetime
    threshold: Decimal | None
    job_plan: str
    estimated_hours: Decimal

    def as_dict(self) -> dict:
        return asdict(self)


def pm_forecast(*, plans, now: datetime, days: int = 90) -> list[ForecastItem]:
    """PM work not generated yet and due in the next `days` days, earliest first.

    Calendar plans list every due date of the horizon (floating plans only the next one,
    the rest depends on completions); meter plans the thresholds the current rate reaches.
    """
    until = now + timedelta(days=days)
    ids = list(plans.filter(is_active=True).order_by("pk").values_list("pk", flat=True))
    items: list[ForecastItem] = []
    for start in range(0, len(ids), FORECAST_CHUNK):
        chunk = list(
            PMPlan.objects.filter(pk__in=ids[start : start + FORECAST_CHUNK])
            .select_related("site", "job_plan")
            .order_by("pk")
        )
        targets = plan_targets(chunk)
        attach_state(chunk, targets)
        for plan in chunk:
            for target in targets.get(plan.pk, []):
                items += _plan_forecast(plan, target, now=now, until=until)
    items.sort(key=lambda item: (item.due_at, item.plan, item.asset))
    return items


def _item(plan: PMPlan, target: Target, due_at: datetime, threshold=None) -> ForecastItem:
    return ForecastItem(
        plan=plan.pk,
        plan_name=plan.name,
        site=plan.site_id,
        site_timezone=plan.site.timezone,
        asset=target.asset_id,
        asset_tag=target.tag,
        trigger=plan.trigger,
        due_at=due_at,
        generate_at=due_at - plan.lead,
        threshold=threshold,
        job_plan=plan.job_plan.code,
        estimated_hours=plan.job_plan.estimated_hours,
    )


def _plan_forecast(plan, target, *, now, until) -> list[ForecastItem]:
    if plan.trigger == Trigger.METER:
        return _meter_forecast(plan, target, now=now, until=until)
    dues = calendar_due_dates(plan, target, until=until, limit=MAX_PER_TARGET)
    return [_item(plan, target, due) for due in dues]


def _meter_forecast(plan, target, *, now, until) -> list[ForecastItem]:
    stats = target.stats
    if stats is None:
        return []
    last = target.latest.threshold if target.latest is not None else None
    k = 1 if last is None else int((last - plan.meter_start) / plan.meter_interval) + 1
    items = []
    while len(items) < MAX_PER_TARGET:
        threshold = plan.meter_start + plan.meter_interval * k
        k += 1
        if last is not None and threshold <= last:
            continue
        if stats.last_value < threshold and not stats.rate_per_day:
            break  # no rate: the crossing date cannot be projected
        due = stats.reaches(threshold, now=now)
        if due > until:
            break
        items.append(_item(plan, target, due, threshold))
    return items


def pm_compliance(*, work_orders, since: datetime, until: datetime, now: datetime) -> dict:
    """PM compliance of work planned due in [since, until): completed by the planned due date,
    completed late, still open; and the PM backlog (open PM work past its planned due date)."""
    pm = work_orders.filter(source=Source.PM, planned_due_at__isnull=False)
    due = pm.filter(planned_due_at__gte=since, planned_due_at__lt=until)
    counts = due.aggregate(
        total=Count("pk"),
        on_time=Count("pk", filter=Q(completed_at__lte=F("planned_due_at"))),
        late=Count("pk", filter=Q(completed_at__gt=F("planned_due_at"))),
        open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
    )
    backlog = pm.filter(status__in=OPEN_STATUSES, planned_due_at__lt=now).count()
    total = counts["total"]
    return {
        **counts,
        "compliance": round(100 * counts["on_time"] / total, 1) if total else None,
        "backlog": backlog,
    }


@dataclass
class RouteCompliance:
    site: str
    due: int
    on_time: int
    late: int
    missed: int

    @property
    def not_done(self) -> int:
        return self.due - self.on_time - self.late

    @property
    def percent(self) -> float | None:
        return round(100 * self.on_time / self.due, 1) if self.due else None


ROUTE_COMPLIANCE_DEFINITION = (
    "Inspection round runs completed no later than their route's grace after the time they "
    "were due ÷ runs due in the period up to now, per site; a missed run (nobody started it "
    "within the grace) is a miss, one completed after the grace is late."
)


def route_compliance_total(rows: list[RouteCompliance]) -> RouteCompliance:
    """The sum of per-site rows (the dashboard's headline figure)."""
    return RouteCompliance(
        site="All",
        due=sum(r.due for r in rows),
        on_time=sum(r.on_time for r in rows),
        late=sum(r.late for r in rows),
        missed=sum(r.missed for r in rows),
    )


def route_compliance(runs, *, start: datetime, end: datetime) -> list[RouteCompliance]:
    """Route compliance per site: runs completed on time / runs due in [start, end).

    "Due": a run of a route whose `due_at` falls in the period, whatever became of it (a missed
    run is a miss). "On time": completed no later than its route's grace after `due_at`. "Late":
    completed after that. "Missed": nobody started it within the grace. Sorted by site name.
    """
    runs = runs.filter(due_at__gte=start, due_at__lt=end)
    if connection.vendor != "postgresql":
        return _route_compliance_counted_here(runs)
    grace = ExpressionWrapper(
        F("route__grace_hours") * Value(timedelta(hours=1)), output_field=DurationField()
    )
    completed = Q(status=RunStatus.COMPLETED)
    rows = (
        runs.annotate(deadline=F("due_at") + grace)
        .values("route__site__name")
        .annotate(
            due=Count("pk"),
            on_time=Count("pk", filter=completed & Q(completed_at__lte=F("deadline"))),
            late=Count("pk", filter=completed & Q(completed_at__gt=F("deadline"))),
            missed=Count("pk", filter=Q(status=RunStatus.MISSED)),
        )
        .order_by("route__site__name")
    )
    return [
        RouteCompliance(
            site=row["route__site__name"],
            due=row["due"],
            on_time=row["on_time"],
            late=row["late"],
            missed=row["missed"],
        )
        for row in rows
    ]


def _route_compliance_counted_here(runs) -> list[RouteCompliance]:
    """`route_compliance` where the database cannot multiply an interval (SQLite, the demo):
    the same counts, run by run."""
    counts: dict[str, list[int]] = {}
    rows = runs.order_by().values_list(
        "route__site__name", "status", "due_at", "completed_at", "route__grace_hours"
    )
    for site, status, due_at, completed_at, grace_hours in rows:
        due, on_time, late, missed = counts.setdefault(site, [0, 0, 0, 0])
        due += 1
        if status == RunStatus.COMPLETED and completed_at is not None:
            if completed_at <= due_at + timedelta(hours=grace_hours):
                on_time += 1
            else:
                late += 1
        elif status == RunStatus.MISSED:
            missed += 1
        counts[site] = [due, on_time, late, missed]
    return [
        RouteCompliance(site=site, due=due, on_time=on_time, late=late, missed=missed)
        for site, (due, on_time, late, missed) in sorted(counts.items())
    ]


def rounds_of_the_day(user, *, now: datetime):
    """The open runs a technician may walk now: due within the next day or still open, at
    their sites, assigned to them, or assigned to nobody and needing no skill they lack;
    earliest due first."""
    skilled = Q(route__required_skill__isnull=True) | Q(route__required_skill__in=user.skills.all())
    return (
        RoundRun.objects.for_user(user)
        .filter(status__in=OPEN_RUN_STATUSES, due_at__lt=now + timedelta(days=1))
        .filter(Q(assignee=user) | (Q(assignee__isnull=True) & skilled))
        .select_related("route__site")
        .annotate(checks=Count("route__points__checks", distinct=True))
        .annotate(recorded=Count("results", distinct=True))
        .order_by("due_at", "route__code")
    )


__all__ = ["pm_compliance", "pm_forecast", "rounds_of_the_day", "route_compliance"]
