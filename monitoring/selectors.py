"""Reads of measurements: one asset's series over a time range at a resolution."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db import connection
from django.db.models import F, FloatField, Func, Max, Min, Sum
from django.db.models.functions import TruncDay

from monitoring.choices import Resolution
from monitoring.models import Measurement, MeasurementHour

MAX_POINTS = 10_000


class TooManyPoints(Exception):
    """The range holds more than MAX_POINTS points at the resolution asked for."""


@dataclass
class Series:
    name: str
    unit: str
    points: list[list] = field(default_factory=list)


def _instant(field: str):
    """The column as seconds since the epoch on PostgreSQL (a float read in C; the datetime
    loader Django installs on psycopg is Python code, about 10 µs a value), as is elsewhere."""
    if connection.vendor == "postgresql":
        return Func(
            F(field),
            function="date_part",
            template="date_part('epoch', %(expressions)s)",
            output_field=FloatField(),
        )
    return F(field)


def _moment(value) -> datetime:
    if isinstance(value, float):
        return datetime.fromtimestamp(value, UTC)
    return value


def measurement_series(
    *, asset_id: int, start: datetime, end: datetime, resolution: str, name: str | None = None
) -> list[Series]:
    """The asset's measurements in [start, end), one series per name (by name), in one query.

    Raw points are [at, value]; aggregated ones [start of the hour or UTC day, min, mean, max,
    count], from the hourly aggregates (an hour is included when it starts in the range).
    Raises TooManyPoints past MAX_POINTS rather than cutting a series short.
    """
    if resolution == Resolution.RAW:
        rows = Measurement.objects.filter(asset_id=asset_id, at__gte=start, at__lt=end)
        if name:
            rows = rows.filter(name=name)
        rows = (
            rows.order_by("name", "at", "source")
            .annotate(instant=_instant("at"))
            .values_list("name", "unit", "instant", "value")
        )
    else:
        rows = MeasurementHour.objects.filter(asset_id=asset_id, hour__gte=start, hour__lt=end)
        if name:
            rows = rows.filter(name=name)
        if resolution == Resolution.HOUR:
            rows = (
                rows.order_by("name", "hour")
                .annotate(instant=_instant("hour"))
                .values_list("name", "unit", "instant", "min", "sum", "max", "count")
            )
        else:
            rows = (
                rows.annotate(day=TruncDay("hour", tzinfo=UTC))
                .values("name", "day")
                .annotate(
                    last_unit=Max("unit"),
                    low=Min("min"),
                    total=Sum("sum"),
                    high=Max("max"),
                    values=Sum("count"),
                )
                .order_by("name", "day")
                .values_list("name", "last_unit", "day", "low", "total", "high", "values")
            )
    rows = list(rows[: MAX_POINTS + 1])
    if len(rows) > MAX_POINTS:
        raise TooManyPoints
    series: dict[str, Series] = {}
    for row in rows:
        current = series.get(row[0])
        if current is None:
            series[row[0]] = current = Series(name=row[0], unit=row[1])
        current.unit = row[1]  # the latest unit names the series
        if resolution == Resolution.RAW:
            current.points.append([_moment(row[2]), row[3]])
        else:
            _, _, at, low, total, high, count = row
            current.points.append([_moment(at), low, total / count, high, count])
    return list(series.values())
