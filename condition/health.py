"""Each asset's health score: 0 (act now) to 100 (nothing known against it), with its reasons.

The score starts at 100 and loses points for five things the CMMS knows about an asset. The
weights say what a planner trusts most: the measured condition is the most direct evidence
(40), open repair work and recent failures are facts but say less about the next month (20,
15), anomalies are early and noisy signs (15), age is a prior that evidence should outweigh
(10). Every part is capped: no part but the condition takes more than 20 points, and the
condition at its alarm limit alone takes the score to 60, so an asset at its limit never looks
healthy.

`score` is pure (hand-made inputs in `tests/condition/test_health.py`); `health_of_assets`
gathers the inputs of any number of assets in one query and scores them.

What the score is not: a history. It is the state as of `now` (the measurements' latest
assessment, counts over the last 30 and 365 days), so a report of a past month shows today's.
"""

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db.models import Aggregate, Count, F, JSONField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, JSONObject
from django.utils import timezone

from alerts.models import Alert
from assets.choices import AssetLevel, AssetState, Criticality
from cmms import charts
from monitoring.choices import Direction
from monitoring.models import MonitoredMeasurement
from workorders.choices import OPEN_STATUSES, Status, WorkOrderType
from workorders.models import WorkOrder

CONDITION_MAX = 40
ANOMALY_POINTS, ANOMALY_MAX, ANOMALY_DAYS = 5, 15, 30
OPEN_WORK_POINTS, OPEN_WORK_MAX = 10, 20
FAILURE_POINTS, FAILURE_MAX, FAILURE_DAYS = 5, 15, 365
AGE_MAX, DESIGN_LIFE_YEARS = 10, 20
PROJECTED_AT_LEAST = 0.5  # a crossing projected within the horizon is at least half-way

# The parts, in the order pages show them.
PARTS = ("condition", "anomalies", "open_work", "failures", "age")
PART_LABELS = {
    "condition": "condition",
    "anomalies": "anomalies",
    "open_work": "open work",
    "failures": "failures",
    "age": "age",
}
# Health bands, worst first: (label, lowest score of the band).
BANDS = (("0-19", 0), ("20-39", 20), ("40-59", 40), ("60-79", 60), ("80-100", 80))

DEFINITION = (
    "Health score, 0 to 100: 100 less five penalties. Condition (up to 40): for each watched "
    "measurement, how far its last value has moved from the healthy level towards the alarm "
    "limit (0 at the healthy level, the full 40 at the limit or beyond); without a healthy "
    "level the penalty starts at the warning limit, without either only reaching the alarm "
    "limit counts; a crossing projected within the measurement's horizon counts as at least "
    "half-way; the worst measurement sets the penalty. Anomalies (up to 15): 5 for each "
    "anomaly alert in the last 30 days. Open work (up to 20): 10 for each open corrective or "
    "condition-based work order. Failures (up to 15): 5 for each corrective work order "
    "completed in the last 365 days. Age (up to 10): in proportion to the years since "
    f"installation over a {DESIGN_LIFE_YEARS}-year design life. A part the system knows "
    "nothing about (no assessed measurement, no installation date) costs nothing and is "
    "named as unknown. Bands: 0-19, 20-39, 40-59, 60-79, 80-100. The score is a current "
    "state, computed when the page or report is made, not a history."
)


@dataclass(frozen=True)
class Watched:
    """One watched measurement's latest assessment, as the score needs it."""

    direction: str
    alarm_limit: float
    warning_limit: float | None
    healthy_level: float | None
    last_value: float | None
    projected_at: datetime | None
    horizon_days: int


@dataclass(frozen=True)
class HealthInputs:
    """What is known of one asset. `monitored`: it has enabled watched measurements, so its
    anomalies were looked for; `installed_on` None: its age is unknown."""

    watched: tuple[Watched, ...] = ()
    monitored: bool = False
    anomalies: int = 0
    open_work: int = 0
    failures: int = 0
    installed_on: date | None = None


@dataclass(frozen=True)
class Health:
    """A score, the points each part took (by `PARTS` name) and which parts were known."""

    score: int
    penalties: dict
    known: frozenset
    nearest_crossing: datetime | None = None

    @property
    def band(self) -> int:
        """The index in `BANDS` of the score's band (0 is the worst)."""
        return min(self.score // 20, len(BANDS) - 1)

    @property
    def unknown(self) -> list[str]:
        return [PART_LABELS[p] for p in PARTS if p not in self.known]

    @property
    def reasons(self) -> list[tuple[str, float]]:
        """The parts that cost points, largest first, as (label, points)."""
        taken = [(PART_LABELS[p], self.penalties[p]) for p in PARTS if self.penalties[p]]
        return sorted(taken, key=lambda item: -item[1])


def position(watched: Watched) -> float | None:
    """How far (0 to 1) the last value has gone from where the penalty starts to the alarm
    limit; None when the measurement has no value yet.

    The penalty starts at the healthy level, else at the warning limit; without either the
    measurement only counts once at or beyond the limit. A projected crossing within the
    horizon counts as at least `PROJECTED_AT_LEAST` (the caller judges "within", having now).
    """
    if watched.last_value is None:
        return None
    start = watched.healthy_level
    if start is None:
        start = watched.warning_limit
    sign = -1 if watched.direction == Direction.BELOW else 1
    beyond = sign * (watched.last_value - watched.alarm_limit)
    if start is None or sign * (watched.alarm_limit - start) <= 0:
        return 1.0 if beyond >= 0 else 0.0
    # In halves: a difference of two huge finite values would overflow to infinity.
    travelled = (watched.last_value / 2 - start / 2) / (watched.alarm_limit / 2 - start / 2)
    if not math.isfinite(travelled):
        return 1.0 if beyond >= 0 else 0.0
    return min(max(travelled, 0.0), 1.0)


def score(inputs: HealthInputs, *, today: date, now: datetime) -> Health:
    """The health of one asset from what is known of it (no database)."""
    known = {"open_work", "failures"}  # the CMMS's own records: always known
    worst = None
    crossings = [w.projected_at for w in inputs.watched if w.projected_at is not None]
    for watched in inputs.watched:
        where = position(watched)
        if where is None:
            continue
        projected = watched.projected_at
        if projected is not None and projected <= now + timedelta(days=watched.horizon_days):
            where = max(where, PROJECTED_AT_LEAST)
        worst = where if worst is None else max(worst, where)
    if worst is not None:
        known.add("condition")
    if inputs.monitored:
        known.add("anomalies")
    age_fraction = 0.0
    if inputs.installed_on is not None:
        known.add("age")
        years = (today - inputs.installed_on).days / 365.25
        age_fraction = min(max(years / DESIGN_LIFE_YEARS, 0.0), 1.0)
    penalties = {
        "condition": round(CONDITION_MAX * (worst or 0.0), 1),
        "anomalies": float(min(ANOMALY_POINTS * inputs.anomalies, ANOMALY_MAX)),
        "open_work": float(min(OPEN_WORK_POINTS * inputs.open_work, OPEN_WORK_MAX)),
        "failures": float(min(FAILURE_POINTS * inputs.failures, FAILURE_MAX)),
        "age": round(AGE_MAX * age_fraction, 1),
    }
    return Health(
        score=max(0, round(100 - sum(penalties.values()))),
        penalties=penalties,
        known=frozenset(known),
        nearest_crossing=min(crossings, default=None),
    )


# ---------------------------------------------------------------- many assets at once


@dataclass
class AssetHealth:
    """An asset (as the values the pages show) and its health."""

    pk: int
    tag: str
    name: str
    site_code: str
    criticality: str
    health: Health


# Areas and lines group equipment: their health is their units'.
SCORED_LEVELS = (AssetLevel.EQUIPMENT, AssetLevel.COMPONENT)


def scored_assets(assets: QuerySet) -> QuerySet:
    """The assets of `assets` that have a health score: equipment units and components in
    service (not decommissioned)."""
    return assets.filter(level__in=SCORED_LEVELS).exclude(state=AssetState.DECOMMISSIONED)


def health_of_assets(assets: QuerySet, *, now: datetime) -> list[AssetHealth]:
    """The health of every scored asset of `assets`, worst first (ties: the more critical
    first, then by tag).

    One query whatever the number of assets: each asset row carries its counts (anomalies,
    open repairs, recent failures) and its watched measurements (a JSON list) as correlated
    subqueries, each an index lookup (`alert_asset_condition`, the work orders' and the
    watched measurements' asset indexes). Memory grows with the number of assets, so callers
    pass one customer's or site's.
    """
    today = now.date()
    result = []
    for row in _inputs(scored_assets(assets), now=now):
        watched = tuple(_watched(m) for m in row["watched"] or ())
        inputs = HealthInputs(
            watched=watched,
            monitored=bool(watched),
            anomalies=row["anomalies"],
            open_work=row["open_work"],
            failures=row["failures"],
            installed_on=row["installed_on"],
        )
        result.append(
            AssetHealth(
                row["pk"],
                row["tag"],
                row["name"],
                row["site__code"],
                row["criticality"],
                score(inputs, today=today, now=now),
            )
        )
    result.sort(key=lambda a: (a.health.score, a.criticality, a.tag, a.pk))
    return result


class _JSONList(Aggregate):
    """The rows' values as one JSON list (JSON_GROUP_ARRAY on SQLite, JSONB_AGG on PostgreSQL)."""

    function = "JSON_GROUP_ARRAY"
    output_field = JSONField()

    def as_postgresql(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, function="JSONB_AGG", **extra)


def _per_asset(queryset: QuerySet, aggregate) -> Subquery:
    """`aggregate` over the rows of `queryset` that belong to the outer query's asset."""
    return Subquery(
        queryset.filter(asset=OuterRef("pk"))
        .order_by()
        .values("asset")
        .annotate(value=aggregate)
        .values("value")
    )


def _inputs(assets: QuerySet, *, now: datetime) -> QuerySet:
    anomalies = Alert.objects.filter(
        gateway__isnull=True,  # raised by condition monitoring, not a gateway's own condition
        condition__startswith="anomaly.",
        observed_at__gte=now - timedelta(days=ANOMALY_DAYS),
        observed_at__lte=now,
    )
    watched = MonitoredMeasurement.objects.filter(enabled=True)
    fields = {name: F(name) for name in Watched.__dataclass_fields__}
    return (
        assets.order_by()
        .annotate(
            anomalies=Coalesce(_per_asset(anomalies, Count("pk")), 0),
            open_work=Coalesce(
                _per_asset(WorkOrder.objects.filter(_open_repair()), Count("pk")), 0
            ),
            failures=Coalesce(
                _per_asset(WorkOrder.objects.filter(_recent_failure(now)), Count("pk")), 0
            ),
            watched=_per_asset(watched, _JSONList(JSONObject(**fields))),
        )
        .values(
            "pk",
            "tag",
            "name",
            "site__code",
            "criticality",
            "installed_on",
            "anomalies",
            "open_work",
            "failures",
            "watched",
        )
    )


def _watched(values: dict) -> Watched:
    """A watched measurement from its JSON form: the instant comes back as text (ISO 8601 on
    PostgreSQL, naive UTC on SQLite)."""
    projected = values["projected_at"]
    if projected is not None:
        projected = datetime.fromisoformat(projected)
        if timezone.is_naive(projected):
            projected = projected.replace(tzinfo=UTC)
    return Watched(**{**values, "projected_at": projected})


def _open_repair() -> Q:
    return Q(
        status__in=OPEN_STATUSES,
        type__in=(WorkOrderType.CORRECTIVE, WorkOrderType.CONDITION_BASED),
    )


def _recent_failure(now: datetime) -> Q:
    return Q(
        type=WorkOrderType.CORRECTIVE,
        status__in=(Status.COMPLETED, Status.CLOSED),
        completed_at__gte=now - timedelta(days=FAILURE_DAYS),
        completed_at__lte=now,
    )


def criticality_grid(assets: list[AssetHealth], criticalities: list[str]) -> list[list[int]]:
    """Counts of assets per (criticality, band): one row per criticality as given, one column
    per band of `BANDS`, worst first."""
    grid = [[0] * len(BANDS) for _ in criticalities]
    row_of = {c: i for i, c in enumerate(criticalities)}
    for asset in assets:
        if asset.criticality in row_of:
            grid[row_of[asset.criticality]][asset.health.band] += 1
    return grid


def band_counts(assets: list[AssetHealth]) -> list[tuple[str, int]]:
    """(band label, assets) for every band, worst first."""
    counts = [0] * len(BANDS)
    for asset in assets:
        counts[asset.health.band] += 1
    return [(label, n) for (label, _), n in zip(BANDS, counts, strict=True)]


def criticality_health_chart(assets: list[AssetHealth]) -> charts.Chart:
    """Criticality (A on top) x health band (worst on the left), so critical assets in poor
    health fill the top-left corner: the planner page's and the report's chart."""
    return charts.risk_grid(
        label="Assets by criticality and health score",
        rows=[c.label for c in Criticality],
        columns=[label for label, _ in BANDS],
        counts=criticality_grid(assets, [c.value for c in Criticality]),
        row_title="Criticality",
        column_title="Health score",
    )
