"""The assessment of watched measurements: anomaly alerts, projected crossings, proposed work.

Every 15 minutes (beat: `condition.tasks.assess_measurements`) each enabled watched measurement
with values newer than its last assessment is assessed, one transaction each, its row locked:

1. **Values.** The newest values of the lookback (the trend's window, at least
   `ANOMALY_LOOKBACK`), at most `MAX_RAW_POINTS` raw ones; when a window holds more, the trend is
   fitted to its hourly means instead (docs/monitoring.md, "Assessment").
2. **Anomalies** (`monitoring.detectors.detect_anomalies`) newer than `anomalies_through` become
   condition alerts `anomaly.<name>` of severity `warning`, raised into the gateways' pipeline
   (`alerts.services.alerts_raise`): recorded, unless a rule of the site says more. Each is
   raised once (its alert id names the watched measurement, the kind and the instant).
3. **The trend** (`monitoring.detectors.assess_trend`, Theil-Sen with Sen's interval; with a
   healthy level, linear or exponential wear, whichever fits better) and its projected crossing
   of the alarm limit are kept on the watched measurement.
4. **The proposal.** A crossing projected within the horizon proposes a condition-based work
   order (`requested`, source `prediction`, condition `trend.<name>`), due by the earliest date
   of the crossing's band and at least a day before the projected date, with the evidence
   (`Prediction`). At most one is open per (asset, measurement): the work orders' constraint of
   one open work order per (asset, condition) decides a race. New data updates it (the due date
   while it is still a proposal; the timeline when the date moves by a day or more). When the
   trend no longer approaches the limit (flat or recovering), a proposal still `requested` is
   withdrawn (cancelled, the reason said); work a planner has already accepted stays, with a
   note on its timeline.
"""

import logging
import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from alerts.services import RaisedAlert, alerts_raise
from cmms.work import Priority
from monitoring.choices import AnomalyKind, Direction, Transform, TrendStatus
from monitoring.detectors import Anomaly, TrendAssessment, assess_trend, detect_anomalies
from monitoring.models import Measurement, MeasurementHour, MonitoredMeasurement, Prediction
from pipeline.choices import Severity
from workorders import services as wo_services
from workorders.choices import OPEN_STATUSES, EventKind, Source, Status, WorkOrderType
from workorders.models import StatusChange, WorkOrder, WorkOrderEvent

logger = logging.getLogger(__name__)

ANOMALY_LOOKBACK = timedelta(days=14)
MAX_RAW_POINTS = 20_000
# Values beyond are no physical measurement (a sensor's garbage): left out of the assessment,
# so the detectors' arithmetic stays finite.
MAX_MAGNITUDE = 1e15
CONFIDENCE = 0.95
# Anomalies raised per measurement and assessment at most (a flapping sensor must not flood
# the pipeline); the rest are counted in the last one's message.
MAX_ANOMALY_ALERTS = 5
URGENT = timedelta(days=7)  # a crossing this close proposes high-priority work
NOTE_WHEN_MOVED = timedelta(days=1)


@dataclass
class AssessmentSummary:
    assessed: int = 0
    anomalies: int = 0
    proposed: int = 0
    updated: int = 0
    withdrawn: int = 0
    skipped: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "assessed": self.assessed,
            "anomalies": self.anomalies,
            "proposed": self.proposed,
            "updated": self.updated,
            "withdrawn": self.withdrawn,
        }


def measurements_due(*, now: datetime) -> list[int]:
    """Ids of the enabled watched measurements with values newer than their last assessment,
    or limits changed since (one query: an index probe of the measurements' primary key per
    watched measurement)."""
    values = Measurement.objects.filter(
        asset_id=OuterRef("asset_id"), name=OuterRef("name"), at__lte=now
    )
    return list(
        MonitoredMeasurement.objects.filter(enabled=True)
        .filter(
            # Never assessed, or limits changed since (which clears `assessed_at`): assessed
            # against them, new values or not.
            ((Q(last_at__isnull=True) | Q(assessed_at__isnull=True)) & Exists(values))
            | Exists(values.filter(at__gt=OuterRef("last_at")))
        )
        .values_list("pk", flat=True)
    )


def measurements_assess(*, now: datetime | None = None) -> AssessmentSummary:
    """Assess every watched measurement with new values (see the module's docstring)."""
    now = now or timezone.now()
    summary = AssessmentSummary()
    for monitored_id in sorted(measurements_due(now=now)):
        try:
            monitored_assess(monitored_id=monitored_id, now=now, summary=summary)
        except Exception:
            # One measurement's failure must not stop the others; the next run retries it.
            logger.exception("Assessment of watched measurement %s failed", monitored_id)
            summary.skipped.append(monitored_id)
    return summary


def monitored_assess(
    *, monitored_id: int, now: datetime | None = None, summary: AssessmentSummary | None = None
) -> MonitoredMeasurement | None:
    """Assess one watched measurement in one transaction, its row locked (a concurrent run of
    the same measurement waits, then assesses the same values again to the same effect)."""
    now = now or timezone.now()
    summary = summary if summary is not None else AssessmentSummary()
    with transaction.atomic():
        monitored = (
            MonitoredMeasurement.objects.select_for_update(of=("self",))
            .select_related("asset", "site")
            .filter(pk=monitored_id, enabled=True)
            .first()
        )
        if monitored is None:
            return None
        raw, trend_points = _values(monitored, now)
        resolved = _last_resolution(monitored)
        if resolved is not None:
            # The condition before the last repair (or a planner's "no") is not the asset's now.
            trend_points = [point for point in trend_points if point[0] > resolved]
        if raw:
            monitored.last_at, monitored.last_value = raw[-1]
        summary.anomalies += _raise_anomalies(monitored, raw, now)
        assessment = _assess_trend(monitored, trend_points, now)
        _keep_assessment(monitored, assessment, now)
        _propose(monitored, assessment, now, summary)
        monitored.save(update_fields=MonitoredMeasurement.ASSESSMENT_FIELDS)
        summary.assessed += 1
    return monitored


# ---------------------------------------------------------------- values


def _values(monitored: MonitoredMeasurement, now: datetime):
    """(raw points oldest first, the points the trend is fitted to)."""
    window = timedelta(days=monitored.window_days)
    start = now - max(window, ANOMALY_LOOKBACK)
    rows = (
        Measurement.objects.filter(
            asset_id=monitored.asset_id, name=monitored.name, at__gt=start, at__lte=now
        )
        .order_by("-at", "source")
        .values_list("at", "value")[:MAX_RAW_POINTS]
    )
    raw = [(at, value) for at, value in reversed(rows) if abs(value) <= MAX_MAGNITUDE]
    if len(rows) < MAX_RAW_POINTS or (raw and raw[0][0] <= now - window):
        return raw, raw
    # The window holds more values than are read raw: its hourly means carry the trend.
    hours = MeasurementHour.objects.filter(
        asset_id=monitored.asset_id, name=monitored.name, hour__gt=now - window, hour__lte=now
    ).order_by("hour")
    trend = [(h.hour + timedelta(minutes=30), h.sum / h.count) for h in hours if h.count]
    return raw, [(at, mean) for at, mean in trend if abs(mean) <= MAX_MAGNITUDE]


def _last_resolution(monitored: MonitoredMeasurement) -> datetime | None:
    """When the last proposal of this measurement was completed, or cancelled by a planner
    (not withdrawn by the assessment): the trend is fitted to the values after it, so neither a
    repair nor a planner's "no" is proposed again from the same values (one query)."""
    return (
        StatusChange.objects.filter(
            work_order__prediction__monitored=monitored,
            work_order__prediction__withdrawn_at__isnull=True,
            to_status__in=[Status.COMPLETED, Status.CANCELLED],
        )
        .order_by("-changed_at")
        .values_list("changed_at", flat=True)
        .first()
    )


# ---------------------------------------------------------------- anomalies


def _raise_anomalies(monitored: MonitoredMeasurement, raw, now: datetime) -> int:
    since = monitored.anomalies_through or (now - ANOMALY_LOOKBACK)
    anomalies = [a for a in detect_anomalies(raw) if a.at > since]
    if raw:
        monitored.anomalies_through = max(since, raw[-1][0])
    if not anomalies:
        return 0
    raised = anomalies[-MAX_ANOMALY_ALERTS:]
    dropped = len(anomalies) - len(raised)
    alerts = [_anomaly_alert(monitored, anomaly) for anomaly in raised]
    if dropped:
        last = alerts[-1]
        note = f" ({dropped} earlier anomalies of this run are not raised separately.)"
        alerts[-1] = replace(last, message=last.message + note)
    return len(alerts_raise(alerts=alerts))


def _anomaly_alert(monitored: MonitoredMeasurement, anomaly: Anomaly) -> RaisedAlert:
    unit = f" {monitored.unit}" if monitored.unit else ""
    side = "above" if anomaly.score > 0 else "below"
    edge = anomaly.expected + math.copysign(anomaly.band, anomaly.score)
    if anomaly.kind == AnomalyKind.VALUE:
        message = (
            f"{monitored.name} {anomaly.value:.4g}{unit} left its learnt baseline "
            f"{anomaly.expected:.4g}{unit} ± {anomaly.band:.3g} ({anomaly.score:+.1f} sigma)."
        )
    else:
        message = (
            f"{monitored.name} drifts {side} its learnt baseline {anomaly.expected:.4g}{unit} "
            f"(cumulative sum {abs(anomaly.score):.1f} sigma; "
            f"latest value {anomaly.value:.4g}{unit})."
        )
    stamp = int(anomaly.at.timestamp() * 1000)
    return RaisedAlert(
        asset=monitored.asset,
        alert_id=f"anomaly-{monitored.pk}-{anomaly.kind}-{stamp}",
        condition=monitored.condition_anomaly,
        severity=Severity.WARNING,
        observed_at=anomaly.at,
        value=anomaly.value,
        unit=monitored.unit,
        threshold=edge,
        message=message,
        attributes={
            "kind": anomaly.kind,
            "expected": _finite(anomaly.expected),
            "band": _finite(anomaly.band),
            "score": _finite(anomaly.score),
            "monitored_measurement": monitored.pk,
        },
    )


# ---------------------------------------------------------------- trend


def _assess_trend(monitored: MonitoredMeasurement, points, now: datetime) -> TrendAssessment:
    options = {
        "direction": monitored.direction,
        "now": now,
        "window": timedelta(days=monitored.window_days),
        "confidence": CONFIDENCE,
    }
    if monitored.healthy_level is not None:
        options.update(transform=Transform.AUTO, offset=monitored.healthy_level)
    return assess_trend(points, monitored.alarm_limit, **options)


def _slope_per_day(monitored: MonitoredMeasurement, assessment: TrendAssessment) -> float | None:
    """The fit's rate of change at the window's end, in the measurement's unit per day."""
    fit = assessment.fit
    if fit is None:
        return None
    if fit.transform == Transform.LINEAR:
        return fit.slope
    # A log-excess fit is of log(sign * (value - healthy)): its derivative at the window's end.
    sign = 1.0 if monitored.direction == Direction.ABOVE else -1.0
    return sign * fit.slope * math.exp(min(fit.value_at(fit.window_end), 700.0))


def _keep_assessment(monitored, assessment: TrendAssessment, now: datetime) -> None:
    projection = assessment.projection
    monitored.assessed_at = now
    monitored.trend_status = assessment.status
    monitored.slope_per_day = _slope_per_day(monitored, assessment)
    monitored.projected_at = projection.crossing if projection else None
    monitored.projected_earliest = projection.earliest if projection else None
    monitored.projected_latest = projection.latest if projection else None


# ---------------------------------------------------------------- proposals


def _within_horizon(monitored, assessment: TrendAssessment, now: datetime) -> bool:
    projection = assessment.projection
    return (
        assessment.status == TrendStatus.APPROACHING
        and projection is not None
        and projection.crossing <= now + timedelta(days=monitored.horizon_days)
    )


def _open_proposal(monitored: MonitoredMeasurement) -> WorkOrder | None:
    return (
        WorkOrder.objects.select_for_update()
        .filter(
            asset_id=monitored.asset_id,
            condition=monitored.condition_proposal,
            source=Source.PREDICTION,
            status__in=OPEN_STATUSES,
        )
        .first()
    )


def _propose(monitored, assessment: TrendAssessment, now: datetime, summary) -> None:
    work_order = _open_proposal(monitored)
    approaching = assessment.status == TrendStatus.APPROACHING and assessment.projection is not None
    if work_order is not None:
        if approaching:
            # Kept up to date even once the crossing moves beyond the horizon (no flapping at
            # its edge): the evidence says where it went.
            if proposal_update(work_order, monitored, assessment, now):
                summary.updated += 1
        elif assessment.status in (TrendStatus.FLAT, TrendStatus.RECOVERED) and (
            proposal_withdraw(work_order, monitored, assessment, now)
        ):
            summary.withdrawn += 1
        return
    if not _within_horizon(monitored, assessment, now):
        return
    try:
        with transaction.atomic():
            proposal_create(monitored, assessment, now)
        summary.proposed += 1
    except IntegrityError:
        work_order = _open_proposal(monitored)
        if work_order is None:
            # Open work of this condition that is not a proposal (someone opened it by hand
            # or a gateway named its condition so): that work answers the trend already.
            return
        # A concurrent assessment proposed it first: update that one.
        if proposal_update(work_order, monitored, assessment, now):
            summary.updated += 1


def _day(monitored: MonitoredMeasurement, moment: datetime) -> str:
    """The day of `moment` at the asset's site, as its people read dates."""
    return f"{moment.astimezone(ZoneInfo(monitored.site.timezone)):%Y-%m-%d}"


def _finite(value):
    """JSON has no infinity or NaN (PostgreSQL's jsonb refuses them): such a figure is null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _due_at(projection, now: datetime) -> datetime:
    return max(now, min(projection.earliest, projection.crossing - timedelta(days=1)))


def _priority(projection, now: datetime) -> int:
    return Priority.HIGH if projection.crossing - now <= URGENT else Priority.MEDIUM


def evidence_of(monitored: MonitoredMeasurement, assessment: TrendAssessment, now) -> dict:
    """What a proposal rests on, in plain JSON: the fit, its window, the projected date and its
    band, the limit, and the last value."""
    fit, projection = assessment.fit, assessment.projection
    evidence = {
        "measurement": monitored.name,
        "unit": monitored.unit,
        "direction": monitored.direction,
        "alarm_limit": monitored.alarm_limit,
        "healthy_level": monitored.healthy_level,
        "method": "Theil-Sen line with Sen's confidence interval of the slope",
        "confidence": CONFIDENCE,
        "transform": fit.transform,
        "slope_per_day": _slope_per_day(monitored, assessment),
        "fit_slope": fit.slope,
        "fit_slope_low": fit.slope_low,
        "fit_slope_high": fit.slope_high,
        "fit_intercept": fit.intercept,
        "fit_origin": fit.origin.isoformat(),
        "window_start": fit.window_start.isoformat(),
        "window_end": fit.window_end.isoformat(),
        "window_days": monitored.window_days,
        "points": fit.points,
        "projected_at": projection.crossing.isoformat(),
        "projected_earliest": projection.earliest.isoformat(),
        "projected_latest": projection.latest.isoformat(),
        "last_value": monitored.last_value,
        "last_at": monitored.last_at.isoformat() if monitored.last_at else None,
        "assessed_at": now.isoformat(),
    }
    return {key: _finite(value) for key, value in evidence.items()}


def _describe(monitored, assessment: TrendAssessment, now: datetime) -> str:
    fit, projection = assessment.fit, assessment.projection
    unit = f" {monitored.unit}" if monitored.unit else ""
    slope = _slope_per_day(monitored, assessment)
    shape = "exponential wear" if fit.transform == Transform.LOG_EXCESS else "a straight line"
    return "\n".join(
        [
            f"The trend of {monitored.name} on {monitored.asset.tag} reaches its alarm limit "
            f"{monitored.alarm_limit:.4g}{unit} about {projection.crossing:%Y-%m-%d %H:%M} UTC "
            f"(between {_day(monitored, projection.earliest)} and "
            f"{_day(monitored, projection.latest)} at the site, "
            f"{CONFIDENCE:.0%} band).",
            f"Fit: Theil-Sen ({shape}) over {fit.points} values from "
            f"{fit.window_start:%Y-%m-%d %H:%M} to {fit.window_end:%Y-%m-%d %H:%M} UTC, "
            f"changing {slope:+.4g}{unit} a day; last value {monitored.last_value:.4g}{unit}.",
            "Proposed by condition monitoring: approve it to plan the work, or cancel it. "
            "It is withdrawn by itself if the trend recovers while it is still a proposal.",
        ]
    )


def proposal_create(monitored, assessment: TrendAssessment, now: datetime) -> WorkOrder:
    """Open the proposed work order and its `Prediction` (the caller holds a savepoint: the
    one-open-per-(asset, condition) constraint refuses a second one with IntegrityError)."""
    projection = assessment.projection
    asset = monitored.asset
    title = (
        f"Predicted: {monitored.name} on {asset.tag} reaches its limit "
        f"~{_day(monitored, projection.crossing)}"
    )
    work_order = wo_services.work_order_create(
        site=asset.site,
        asset=asset,
        title=title[:200],
        description=_describe(monitored, assessment, now),
        status=Status.REQUESTED,
        source=Source.PREDICTION,
        type=WorkOrderType.CONDITION_BASED,
        priority=_priority(projection, now),
        due_at=_due_at(projection, now),
        condition=monitored.condition_proposal,
        event=(
            f"Proposed by condition monitoring: {monitored.name} projected to cross "
            f"{monitored.alarm_limit:.4g} about {_day(monitored, projection.crossing)}."
        ),
    )
    evidence = evidence_of(monitored, assessment, now)
    Prediction.objects.create(
        monitored=monitored,
        site_id=monitored.site_id,
        work_order=work_order,
        projected_at=projection.crossing,
        projected_earliest=projection.earliest,
        projected_latest=projection.latest,
        evidence={**evidence, "noted_at": evidence["projected_at"]},
    )
    return work_order


def proposal_update(work_order: WorkOrder, monitored, assessment, now: datetime) -> bool:
    """Bring an open proposal up to the new projection; True when the projected date moved
    enough to say so on the timeline (and, while still a proposal, to move its due date)."""
    projection = assessment.projection
    # Every proposal has its Prediction, written with it (proposal_create).
    prediction = Prediction.objects.get(work_order=work_order)
    evidence = evidence_of(monitored, assessment, now)
    noted = prediction.evidence.get("noted_at")
    noted_at = datetime.fromisoformat(noted) if noted else None
    moved = noted_at is None or abs(projection.crossing - noted_at) >= NOTE_WHEN_MOVED
    prediction.projected_at = projection.crossing
    prediction.projected_earliest = projection.earliest
    prediction.projected_latest = projection.latest
    prediction.withdrawn_at = None
    prediction.evidence = {**evidence, "noted_at": evidence["projected_at"] if moved else noted}
    prediction.save()
    if not moved:
        return False
    was = f", was {_day(monitored, noted_at)}" if noted_at else ""
    if work_order.status == Status.REQUESTED:
        wo_services.work_order_update(
            work_order=work_order,
            due_at=_due_at(projection, now),
            priority=_priority(projection, now),
            description=_describe(monitored, assessment, now),
        )
    WorkOrderEvent.objects.create(
        work_order=work_order,
        kind=EventKind.PREDICTION,
        message=(
            f"Projection updated: {monitored.name} crosses {monitored.alarm_limit:.4g} about "
            f"{_day(monitored, projection.crossing)} ({_day(monitored, projection.earliest)} "
            f"to {_day(monitored, projection.latest)}{was})."
        ),
        data={"prediction": prediction.pk, "projected_at": evidence["projected_at"]},
    )
    return True


def proposal_withdraw(work_order: WorkOrder, monitored, assessment, now: datetime) -> bool:
    """The trend no longer approaches the limit: cancel the proposal if it is still one (True),
    else say so once on the accepted work's timeline (False)."""
    prediction = Prediction.objects.get(work_order=work_order)
    trend = "recovering" if assessment.status == TrendStatus.RECOVERED else "flat"
    reason = (
        f"Withdrawn by condition monitoring: the trend of {monitored.name} is {trend} and no "
        f"longer approaches its limit {monitored.alarm_limit:.4g}."
    )
    if work_order.status == Status.REQUESTED:
        wo_services.work_order_transition(work_order=work_order, to=Status.CANCELLED, reason=reason)
        prediction.withdrawn_at = now
        prediction.save(update_fields=["withdrawn_at", "updated_at"])
        return True
    if prediction.evidence.get("trend_left") is None:
        prediction.evidence = {**prediction.evidence, "trend_left": now.isoformat()}
        prediction.save(update_fields=["evidence", "updated_at"])
        WorkOrderEvent.objects.create(
            work_order=work_order,
            kind=EventKind.PREDICTION,
            message=(
                f"The trend of {monitored.name} is {trend} and no longer approaches its limit; "
                "the work stays as planned."
            ),
            data={"prediction": prediction.pk},
        )
    return False
