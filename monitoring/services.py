"""Writes of measurements: recording a batch, partitions ahead, hourly aggregation, retention.

Every writer (alerts, gateway readings, inspection rounds, and through them MQTT and
Sparkplug) hands its batch to `measurements_record`: one INSERT for the whole batch, the
asset's site taken in the same statement. The beat tasks (`monitoring.tasks`) call the rest.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from assets.models import Asset
from audit.choices import AuditAction
from audit.services import audit_record
from monitoring.choices import TrendStatus
from monitoring.models import Measurement, MeasurementHour, MonitoredMeasurement, Prediction
from monitoring.partitions import TABLE, partitions_ensure, partitions_expired
from workorders.choices import Source, Status
from workorders.models import WorkOrder
from workorders.policy import check_planning
from workorders.services import work_order_transition


@dataclass(frozen=True)
class MeasurementIn:
    """One value to store: `at` is an aware datetime, `source` a `MeasurementSource`."""

    asset_id: int
    name: str
    unit: str
    value: float
    at: datetime
    source: str


def measurements_record(*, measurements: list[MeasurementIn]) -> int:
    """Store a batch in one statement; a value already stored for the same (asset, name, at,
    source) is kept, so a redelivered batch changes nothing. Returns how many rows are new.

    INSERT ... SELECT FROM (the batch) JOIN asset: the site comes from the asset, and a value
    for an asset deleted meanwhile is dropped rather than failing the batch. On PostgreSQL the
    batch is six arrays unnested (six parameters whatever its size: the statement's text is
    the same for every batch, so psycopg prepares it once per connection); elsewhere a VALUES
    list.
    """
    if not measurements:
        return 0
    qn = connection.ops.quote_name
    columns = ("asset_id", "name", "unit", "value", "at", "source")
    at_field = Measurement._meta.get_field("at")
    insert = (
        f"INSERT INTO {qn(Measurement._meta.db_table)} "
        f"({', '.join(qn(c) for c in columns)}, {qn('site_id')}) "
    )
    # Only quoted identifiers, types and placeholders are formatted in; values are parameters.
    # `WHERE 1 = 1`: SQLite parses `ON CONFLICT` after a bare `INSERT ... SELECT ... JOIN` as
    # the join's constraint; a WHERE clause ends the SELECT first (SQLite's documented rule).
    if connection.vendor == "postgresql":
        types = ("bigint[]", "text[]", "text[]", "float8[]", "timestamptz[]", "text[]")
        arrays = ", ".join(f"%s::{t}" for t in types)
        sql = (
            f"{insert}SELECT v.c1, v.c2, v.c3, v.c4, v.c5, v.c6, a.{qn('site_id')} "  # noqa: S608
            f"FROM unnest({arrays}) AS v (c1, c2, c3, c4, c5, c6) "
            f"JOIN {qn(Asset._meta.db_table)} a ON a.{qn('id')} = v.c1 "
            f"ON CONFLICT DO NOTHING"
        )
        params = [
            [m.asset_id for m in measurements],
            [m.name for m in measurements],
            [m.unit for m in measurements],
            [float(m.value) for m in measurements],
            [m.at for m in measurements],
            [m.source for m in measurements],
        ]
    else:
        typed = [f"v.column{i}" for i in range(1, len(columns) + 1)]
        params = []
        for m in measurements:
            at = at_field.get_db_prep_save(m.at, connection)
            params += [m.asset_id, m.name, m.unit, float(m.value), at, m.source]
        row = "(" + ", ".join(["%s"] * len(columns)) + ")"
        sql = (
            f"{insert}SELECT {', '.join(typed)}, a.{qn('site_id')} "  # noqa: S608
            f"FROM (VALUES {', '.join([row] * len(measurements))}) AS v "
            f"JOIN {qn(Asset._meta.db_table)} a ON a.{qn('id')} = {typed[0]} WHERE 1 = 1 "
            f"ON CONFLICT DO NOTHING"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


# ---------------------------------------------------------------- partitions


def measurement_partitions_ensure(*, now: datetime | None = None) -> list[str]:
    """Create this month's and the next two months' partitions where missing (PostgreSQL)."""
    now = now or timezone.now()
    with transaction.atomic():
        return partitions_ensure(connection, today=now.astimezone(UTC).date(), months_ahead=2)


# ---------------------------------------------------------------- hourly aggregation


def _hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


_AGGREGATE_PG = """
INSERT INTO monitoring_measurementhour
    (asset_id, site_id, name, hour, unit, count, min, max, sum, last_value, last_at)
SELECT asset_id, site_id, name, date_trunc('hour', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
       (array_agg(unit ORDER BY at DESC, source))[1], count(*), min(value), max(value),
       sum(value), (array_agg(value ORDER BY at DESC, source))[1], max(at)
FROM monitoring_measurement
WHERE at >= %s AND at < %s
GROUP BY asset_id, site_id, name, date_trunc('hour', at AT TIME ZONE 'UTC')
ON CONFLICT (asset_id, name, hour) DO UPDATE SET
    site_id = EXCLUDED.site_id, unit = EXCLUDED.unit, count = EXCLUDED.count,
    min = EXCLUDED.min, max = EXCLUDED.max, sum = EXCLUDED.sum,
    last_value = EXCLUDED.last_value, last_at = EXCLUDED.last_at
"""


def measurements_aggregate(*, now: datetime | None = None) -> int:
    """Recompute the hourly aggregates of the hours in the lookback window from the raw rows
    (all hours when none is aggregated yet); returns how many hours were written.

    Each hour is recomputed whole from its raw rows, never added to, so running twice gives
    the same rows, and values that arrive late (within `MEASUREMENT_AGGREGATION_LOOKBACK_HOURS`)
    are counted in their hour on the next run. One statement on PostgreSQL.
    """
    now = now or timezone.now()
    end = _hour(now) + timedelta(hours=1)  # the current hour too, as far as it goes
    if MeasurementHour.objects.exists():
        start = end - timedelta(hours=settings.MEASUREMENT_AGGREGATION_LOOKBACK_HOURS + 1)
    else:
        start = datetime(1970, 1, 1, tzinfo=UTC)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(_AGGREGATE_PG, [start, end])
                return cursor.rowcount
        return _aggregate_in_python(start, end)


def _aggregate_in_python(start: datetime, end: datetime) -> int:
    """The same aggregation for SQLite (the embedded demo), computed here."""
    hours: dict[tuple, dict] = {}
    rows = (
        Measurement.objects.filter(at__gte=start, at__lt=end)
        .order_by("asset_id", "name", "at", "source")
        .values_list("asset_id", "site_id", "name", "unit", "value", "at")
    )
    for asset_id, site_id, name, unit, value, at in rows:
        key = (asset_id, name, _hour(at))
        hour = hours.get(key)
        if hour is None:
            hours[key] = hour = defaultdict(float, count=0, min=value, max=value, site_id=site_id)
        hour["count"] += 1
        hour["min"] = min(hour["min"], value)
        hour["max"] = max(hour["max"], value)
        hour["sum"] += value
        hour.update(unit=unit, last_value=value, last_at=at)
    objects = [
        MeasurementHour(
            asset_id=asset_id,
            name=name,
            hour=moment,
            site_id=h["site_id"],
            unit=h["unit"],
            count=h["count"],
            min=h["min"],
            max=h["max"],
            sum=h["sum"],
            last_value=h["last_value"],
            last_at=h["last_at"],
        )
        for (asset_id, name, moment), h in hours.items()
    ]
    MeasurementHour.objects.bulk_create(
        objects,
        update_conflicts=True,
        unique_fields=["asset", "name", "hour"],
        update_fields=["site", "unit", "count", "min", "max", "sum", "last_value", "last_at"],
    )
    return len(objects)


# ---------------------------------------------------------------- retention


@dataclass
class ExpiryResult:
    partitions_dropped: list[str]
    raw_deleted: int
    hours_deleted: int


def measurements_expire(*, now: datetime | None = None) -> ExpiryResult:
    """Drop raw values older than `MEASUREMENT_RAW_RETENTION_DAYS` and hourly aggregates older
    than `MEASUREMENT_HOURLY_RETENTION_DAYS`.

    On PostgreSQL the months that are wholly expired go as whole partitions (no dead rows, no
    vacuum), and one DELETE takes the expired part of the month the cut-off falls in (and of
    the default partition).
    """
    now = now or timezone.now()
    raw_cutoff = now - timedelta(days=settings.MEASUREMENT_RAW_RETENTION_DAYS)
    hourly_cutoff = now - timedelta(days=settings.MEASUREMENT_HOURLY_RETENTION_DAYS)
    with transaction.atomic():
        dropped = partitions_expired(connection, before=raw_cutoff)
        with connection.cursor() as cursor:
            if dropped:
                # Deferred foreign key checks of rows written in this transaction would
                # forbid the DROP; checking them now changes nothing else.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for name in dropped:
                # Names come from pg_inherits and match monitoring_measurement_pYYYYMM.
                cursor.execute(f"ALTER TABLE {TABLE} DETACH PARTITION {name}")
                cursor.execute(f"DROP TABLE {name}")
        raw_deleted, _ = Measurement.objects.filter(at__lt=raw_cutoff).delete()
        hours_deleted, _ = MeasurementHour.objects.filter(hour__lt=hourly_cutoff).delete()
    return ExpiryResult(dropped, raw_deleted, hours_deleted)


# ---------------------------------------------------------------- watched measurements

MONITORED_FIELDS = (
    "name",
    "unit",
    "direction",
    "alarm_limit",
    "warning_limit",
    "healthy_level",
    "window_days",
    "horizon_days",
    "enabled",
)


def monitored_measurement_save(
    *, monitored: MonitoredMeasurement | None = None, asset: Asset | None = None, by=None, **fields
) -> MonitoredMeasurement:
    """Put an asset's measurement under watch (`asset` and the fields), or change one's limits.

    The site is the asset's; the asset and the name of a watched measurement do not change (its
    history is theirs). Validated in full (ValidationError naming the field), audited. A change
    is written under the row's lock and only to the fields it changes, so an assessment running
    meanwhile keeps its results. A change of the limits or the window clears the projection, and
    the next assessment (beat, every 15 minutes) computes it against the new limits, new values
    or not. Disabling withdraws the proposal still waiting for a planner.
    """
    unknown = set(fields) - set(MONITORED_FIELDS)
    if unknown:
        raise TypeError(f"Unknown fields: {sorted(unknown)}")
    if monitored is None:
        if asset is None:
            raise ValidationError({"asset": "Choose the asset whose measurement to watch."})
        return _monitored_create(asset=asset, by=by, fields=fields)
    check_planning(
        by, monitored.site_id, refusal="Only planners put an asset's measurements under watch."
    )
    if "name" in fields and fields["name"] != monitored.name:
        raise ValidationError(
            {"name": "A watched measurement keeps its name; watch the other measurement instead."}
        )
    with transaction.atomic():
        locked = MonitoredMeasurement.objects.select_for_update().get(pk=monitored.pk)
        changes = {
            name: [getattr(locked, name), value]
            for name, value in fields.items()
            if getattr(locked, name) != value
        }
        if not changes:
            return locked
        for name, (_, value) in changes.items():
            setattr(locked, name, value)
        written = [*changes, "updated_at"]
        if changes.keys() & {"direction", "alarm_limit", "healthy_level", "window_days"}:
            locked.trend_status = TrendStatus.INSUFFICIENT
            locked.slope_per_day = None
            locked.projected_at = locked.projected_earliest = locked.projected_latest = None
            locked.assessed_at = None  # due again (condition.assessment.measurements_due)
            written += ["trend_status", "slope_per_day", "assessed_at", *PROJECTION_FIELDS]
        locked.full_clean(exclude=["asset", "site"], validate_unique=False)
        locked.save(update_fields=written)
        if changes.get("enabled", [None, True])[1] is False:
            _withdraw_waiting_proposal(locked, by=by)
        audit_record(
            by=by,
            action=AuditAction.MONITORED_MEASUREMENT_UPDATE,
            obj=locked,
            site=locked.site,
            changes=changes,
        )
    return locked


PROJECTION_FIELDS = ("projected_at", "projected_earliest", "projected_latest")


def _monitored_create(*, asset: Asset, by, fields: dict) -> MonitoredMeasurement:
    check_planning(
        by, asset.site_id, refusal="Only planners put an asset's measurements under watch."
    )
    monitored = MonitoredMeasurement(asset=asset, site_id=asset.site_id, **fields)
    monitored.full_clean(exclude=["site"])
    with transaction.atomic():
        try:
            with transaction.atomic():
                monitored.save()
        except IntegrityError as error:  # a concurrent request watched the same measurement
            raise ValidationError(
                {"name": "This measurement of the asset is already watched."}
            ) from error
        audit_record(
            by=by,
            action=AuditAction.MONITORED_MEASUREMENT_CREATE,
            obj=monitored,
            site=monitored.site,
            changes={name: getattr(monitored, name) for name in MONITORED_FIELDS},
        )
    return monitored


def _withdraw_waiting_proposal(monitored: MonitoredMeasurement, *, by) -> None:
    """Cancel the proposal of a measurement no longer watched while it still waits for a
    planner (accepted work stays)."""
    waiting = WorkOrder.objects.filter(
        asset_id=monitored.asset_id,
        condition=monitored.condition_proposal,
        source=Source.PREDICTION,
        status=Status.REQUESTED,
    ).first()
    if waiting is None:
        return
    work_order_transition(
        work_order=waiting,
        to=Status.CANCELLED,
        by=by,
        reason=f"Withdrawn: {monitored.name} is no longer watched on {monitored.asset.tag}.",
    )
    Prediction.objects.filter(work_order=waiting).update(withdrawn_at=timezone.now())
