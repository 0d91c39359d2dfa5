"""Inspection rounds: creating due runs, recording results, completing a run.

Every write a technician makes is one request that is safe to repeat (the offline queue replays
them): a result is keyed by (run, check), so a repeated submission finds its row and changes
nothing; a run is completed once. A reading outside its limits or a failed check raises one
work request, held in the result's `work_order`; the run's row lock serialises submissions, so
neither a repeat nor a race raises a second one. A reading that names a meter feeds it once:
the result keeps its `meter_reading`.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from cmms.errors import ConflictError, NotPermitted
from monitoring.choices import MeasurementSource
from monitoring.models import Measurement
from monitoring.services import MeasurementIn, measurements_record
from pm import schedule
from pm.choices import OPEN_RUN_STATUSES, CheckKind, RunStatus
from pm.models import RoundResult, RoundRun, Route, RouteCheck
from pm.services.meters import meter_reading_record
from workorders.choices import Source, Status, WorkOrderType
from workorders.policy import check_site, may_change_work
from workorders.services import work_order_create

logger = logging.getLogger(__name__)

ONE_MICROSECOND = timedelta(microseconds=1)
ROUND_CLOSED = "round_closed"


@dataclass
class RoundsGenerated:
    created: int = 0
    missed: int = 0


def rounds_generate_due(*, now: datetime | None = None) -> RoundsGenerated:
    """Create the runs of active routes due up to now + their lead, and mark missed the runs
    nobody started within their grace. Safe to repeat and to run concurrently: a run is unique
    per (route, due_at), so a second insert of it fails and is not counted; missing is a
    conditional update."""
    now = now or timezone.now()
    result = RoundsGenerated()
    for route in Route.objects.active().select_related("site").order_by("pk"):
        latest = route.runs.order_by("-due_at").values_list("due_at", flat=True).first()
        after = route.generate_from - ONE_MICROSECOND
        if latest is not None and latest > after:
            after = latest
        dues = schedule.fixed_due_dates(
            start=route.starts_on,
            interval=route.interval,
            unit=route.interval_unit,
            at=route.due_time,
            tz=route.tz,
            after=after,
            until=now + timedelta(hours=route.lead_hours),
            ends_on=route.ends_on,
        )
        for due in dues:
            result.created += _run_create(route, due, now=now)
    for route in Route.objects.filter(runs__status=RunStatus.SCHEDULED).distinct():
        result.missed += RoundRun.objects.filter(
            route=route, status=RunStatus.SCHEDULED, due_at__lt=now - route.grace
        ).update(status=RunStatus.MISSED)
    if result.created or result.missed:
        logger.info("Rounds: %s runs created, %s missed.", result.created, result.missed)
    return result


def _run_create(route: Route, due_at: datetime, *, now: datetime) -> int:
    """Insert one run; 0 when another generation run inserted it first (the unique key)."""
    try:
        with transaction.atomic():
            RoundRun.objects.create(
                route=route, due_at=due_at, assignee_id=route.assignee_id, created_at=now
            )
    except IntegrityError:
        return 0
    return 1


def _check_walker(by, run: RoundRun) -> None:
    if by is None:
        return
    check_site(by, run.route.site_id)
    if not may_change_work(by):
        raise NotPermitted("Customer viewers do not walk rounds.")


def _lock_run(run: RoundRun) -> RoundRun:
    return (
        RoundRun.objects.select_for_update(of=("self",))
        .select_related("route__site")
        .get(pk=run.pk)
    )


def _clean_input(check: RouteCheck, value, passed) -> tuple[Decimal | None, bool | None]:
    if check.kind == CheckKind.READING:
        if value is None or value == "":
            raise ValidationError({"value": f"Enter the reading for “{check.label}”."})
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise ValidationError({"value": "Enter a number."}) from None
        if not number.is_finite() or abs(number) >= Decimal("1e13"):
            raise ValidationError({"value": "Enter a number of at most 13 digits."})
        return number.quantize(Decimal("0.001")), None
    if passed is None:
        raise ValidationError({"passed": f"Say whether “{check.label}” passed."})
    return None, bool(passed)


@transaction.atomic
def round_result_record(
    *,
    run: RoundRun,
    route_check: RouteCheck,
    by,
    value=None,
    passed: bool | None = None,
    note: str = "",
    now: datetime | None = None,
) -> RoundResult:
    """Record (or correct) the result of one check in a run; repeating it changes nothing.

    The first result starts the run. Out of limits (limits inclusive) or failed: one work
    request on the point's asset, the first time only; a correction back into the limits
    leaves that request for the planner to triage. A corrected reading replaces the meter
    reading it fed (same observation time), so a meter never counts one round twice.
    """
    now = now or timezone.now()
    run = _lock_run(run)
    _check_walker(by, run)
    check = RouteCheck.objects.select_related("point__asset", "meter__asset").get(pk=route_check.pk)
    if check.point.route_id != run.route_id:
        raise ValidationError({"check": "This check is not on the round's route."})
    value, passed = _clean_input(check, value, passed)
    note = (note or "").strip()[:500]
    result = (
        RoundResult.objects.select_related("meter_reading")
        .filter(run=run, route_check=check)
        .first()
    )
    if result is not None and (result.value, result.passed, result.note) == (value, passed, note):
        return result  # a repeat: nothing changes, whatever the run's status now
    if run.status not in OPEN_RUN_STATUSES:
        raise ConflictError(f"This round is {run.get_status_display().lower()}.", code=ROUND_CLOSED)
    if run.status == RunStatus.SCHEDULED:
        run.status, run.started_at, run.started_by = RunStatus.IN_PROGRESS, now, by
        run.save(update_fields=["status", "started_at", "started_by"])
    if result is None:
        result = RoundResult(run=run, route_check=check)
    previous = (result.value, result.recorded_at) if result.pk else (None, None)
    result.route_check = check
    result.value, result.passed, result.note = value, passed, note
    result.out_of_limits = check.out_of_limits(value) if value is not None else passed is False
    result.recorded_by, result.recorded_at = by, now
    if check.meter is not None and value is not None:
        _feed_meter(result, check, by=by, now=now)
    if result.out_of_limits and result.work_order_id is None:
        result.work_order = _raise_request(run, check, result, by=by, now=now)
    result.save()
    if value is not None:
        _measure(check, value, now, previous=previous)
    return result


def _measure(check: RouteCheck, value, at: datetime, *, previous) -> None:
    """The reading as a measurement of the point's asset (named by the meter it feeds, else by
    its label); a correction replaces the value it corrects rather than adding to the series."""
    name = check.meter.code if check.meter is not None else slugify(check.label)[:100]
    asset = check.meter.asset if check.meter is not None else check.point.asset
    old_value, old_at = previous
    if old_value is not None:
        Measurement.objects.filter(
            asset=asset, name=name, at=old_at, source=MeasurementSource.ROUND
        ).delete()
    measurements_record(
        measurements=[
            MeasurementIn(
                asset_id=asset.pk,
                name=name,
                unit=check.meter.unit if check.meter is not None else check.unit,
                value=float(value),
                at=at,
                source=MeasurementSource.ROUND,
            )
        ]
    )


def _feed_meter(result: RoundResult, check: RouteCheck, *, by, now: datetime) -> None:
    previous = result.meter_reading
    if previous is not None and previous.value == result.value:
        return
    observed_at = previous.observed_at if previous is not None else now
    if previous is not None:
        result.meter_reading = None
        previous.delete()
    result.meter_reading = meter_reading_record(
        meter=check.meter, value=result.value, observed_at=observed_at, by=by, now=now
    )


def _evidence(run: RoundRun, check: RouteCheck, result: RoundResult, *, by, now) -> str:
    route, tz = run.route, run.route.tz
    if check.kind == CheckKind.READING:
        unit = f" {check.unit}" if check.unit else ""
        found = f"Reading {result.value}{unit}, outside the limits ({check.limits})."
    else:
        found = "Check failed."
    who = by.get_username() if by is not None else "the system"
    lines = [
        f"Round {route.code} ({route.name}), due {run.due_at.astimezone(tz):%Y-%m-%d %H:%M %Z}.",
        f"Point {check.point.position}: {check.point.asset.tag} — {check.label}.",
        found,
        f"Recorded by {who} at {now.astimezone(tz):%Y-%m-%d %H:%M %Z}.",
    ]
    if result.note:
        lines.append(f"Note: {result.note}")
    return "\n".join(lines)


def _raise_request(run: RoundRun, check: RouteCheck, result: RoundResult, *, by, now):
    asset = check.point.asset
    return work_order_create(
        site=run.route.site,
        asset=asset,
        title=f"{asset.tag}: {check.label} out of limits on round {run.route.code}"[:200],
        description=_evidence(run, check, result, by=by, now=now),
        by=by,
        status=Status.REQUESTED,
        source=Source.REQUEST,
        type=WorkOrderType.CORRECTIVE,
        event=f"Raised by round {run.route.code}",
    )


@transaction.atomic
def round_run_complete(*, run: RoundRun, by, now: datetime | None = None) -> RoundRun:
    """Complete a run once every check has a result; completing it again changes nothing."""
    now = now or timezone.now()
    run = _lock_run(run)
    _check_walker(by, run)
    if run.status == RunStatus.COMPLETED:
        return run
    if run.status not in OPEN_RUN_STATUSES:
        raise ConflictError(f"This round is {run.get_status_display().lower()}.", code=ROUND_CLOSED)
    missing = RouteCheck.objects.filter(point__route=run.route_id).exclude(results__run=run).count()
    if missing:
        raise ValidationError(
            {"results": f"{missing} check(s) have no result yet: record them first."}
        )
    run.status, run.completed_at, run.completed_by = RunStatus.COMPLETED, now, by
    if run.started_at is None:
        run.started_at, run.started_by = now, by
    run.save(update_fields=["status", "completed_at", "completed_by", "started_at", "started_by"])
    return run
