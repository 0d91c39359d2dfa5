"""Reads of measurements: one asset's series over a time range at a resolution."""

import itertools
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
    rows = _fetch(rows[: MAX_POINTS + 1], plain=resolution != Resolution.DAY)
    if len(rows) > MAX_POINTS:
        raise TooManyPoints
    series: dict[str, Series] = {}
    for (name_, unit), group in itertools.groupby(rows, key=lambda row: (row[0], row[1])):
        current = series.get(name_)
        if current is None:
            series[name_] = current = Series(name=name_, unit=unit)
        current.unit = unit  # the latest unit names the series
        if resolution == Resolution.RAW:
            current.points += [[_moment(at), value] for _, _, at, value in group]
        else:
            current.points += [
                [_moment(at), low, total / count, high, count]
                for _, _, at, low, total, high, count in group
            ]
    return list(series.values())


def _fetch(queryset, *, plain: bool) -> list[tuple]:
    """The rows of a values_list queryset. A plain one (its columns in the list's order, no
    converter needed) on PostgreSQL is sent as the ORM writes it and fetched in one go: a
    90-day series is 8,640 rows, and the ORM's iteration cost three times the query."""
    if not plain or connection.vendor != "postgresql":
        return list(queryset)
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
