"""The demo's inspection rounds: one daily route per site past three units, each with a leak
check and a temperature reading (limits, feeding a meter), and its past week of runs walked
through the same services a technician's phone calls: most on time, one late, one missed, one
with a reading out of limits that raised a work request; today's run is under way."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from assets.models import Meter
from pm.choices import CheckKind, RunStatus
from pm.models import RoundRun, Route, RouteCheck, RoutePoint
from pm.services import round_result_record, round_run_complete, rounds_generate_due

DAYS = 7
DUE = datetime.time(7, 30)
TEMPERATURE = {"low": Decimal("15"), "high": Decimal("70")}


def seed_rounds(sites: dict, equipment: dict, users: dict, *, now: datetime.datetime) -> None:
    """A route per site and its runs of the last `DAYS` days (and today's, by the beat's
    service)."""
    for code, site in sites.items():
        technician = next(
            u for u in users.values() if u.is_technician and u.sites.filter(pk=site.pk).exists()
        )
        units = [u for u in equipment[code] if u.tag.startswith(("P-", "C-"))][:3]
        route = _route(site, units, now=now)
        _past_week(route, technician, now=now)
    rounds_generate_due(now=now)


def _route(site, units, *, now) -> Route:
    today = now.astimezone(ZoneInfo(site.timezone)).date()
    route = Route.objects.create(
        site=site,
        code="R-DAILY",
        name="Daily utilities walk",
        description="Walk the pump house and the compressors; look, listen, read the gauges.",
        starts_on=today - datetime.timedelta(days=DAYS),
        due_time=DUE,
        grace_hours=4,
        generate_from=now,
    )
    for position, unit in enumerate(units, start=1):
        point = RoutePoint.objects.create(
            route=route,
            position=position,
            asset=unit,
            instruction="Check the seal and the base for leaks, then read the bearing gauge.",
        )
        meter = Meter.objects.create(
            asset=unit, code="bearing-temp", name="Bearing temperature", unit="°C", cumulative=False
        )
        RouteCheck.objects.create(point=point, position=1, label="No leaks at the seal")
        RouteCheck.objects.create(
            point=point,
            position=2,
            kind=CheckKind.READING,
            label="Bearing temperature",
            unit="°C",
            meter=meter,
            **TEMPERATURE,
        )
    return route


def _past_week(route: Route, technician, *, now) -> None:
    tz = ZoneInfo(route.site.timezone)
    checks = list(
        RouteCheck.objects.filter(point__route=route).order_by("point__position", "position")
    )
    for days_ago in range(DAYS, 0, -1):
        day = now.astimezone(tz).date() - datetime.timedelta(days=days_ago)
        due = datetime.datetime.combine(day, DUE, tzinfo=tz)
        run = RoundRun.objects.create(route=route, due_at=due, assignee=technician)
        if days_ago == 3:  # nobody walked it
            RoundRun.objects.filter(pk=run.pk).update(status=RunStatus.MISSED)
            continue
        late = days_ago == 5
        walked = due + datetime.timedelta(hours=5 if late else 1)
        for n, check in enumerate(checks):
            at = walked + datetime.timedelta(minutes=4 * n)
            if check.kind == CheckKind.READING:
                hot = days_ago == 2 and n == 1  # the first unit's bearing ran hot two days ago
                value = Decimal("78.5") if hot else Decimal(40 + (days_ago * 3 + n) % 12)
                round_result_record(run=run, route_check=check, by=technician, value=value, now=at)
            else:
                round_result_record(run=run, route_check=check, by=technician, passed=True, now=at)
        round_run_complete(
            run=run, by=technician, now=walked + datetime.timedelta(minutes=4 * len(checks))
        )
    _today_started(route, technician, checks, tz=tz, now=now)


def _today_started(route, technician, checks, *, tz, now) -> None:
    """Today's run, begun: the first point is done, the rest waits on the technician's phone."""
    due = datetime.datetime.combine(now.astimezone(tz).date(), DUE, tzinfo=tz)
    run = RoundRun.objects.create(route=route, due_at=due, assignee=technician)
    at = now - datetime.timedelta(minutes=10)
    first_point = checks[0].point_id
    for check in (c for c in checks if c.point_id == first_point):
        if check.kind == CheckKind.READING:
            round_result_record(run=run, route_check=check, by=technician, value="42", now=at)
        else:
            round_result_record(run=run, route_check=check, by=technician, passed=True, now=at)
