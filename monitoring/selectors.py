"""Reads of measurements: one asset's series over a time range at a resolution."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db.models import Max, Min, Sum
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
        rows = rows.order_by("name", "at", "source").values_list("name", "unit", "at", "value")
    else:
        rows = MeasurementHour.objects.filter(asset_id=asset_id, hour__gte=start, hour__lt=end)
        if name:
            rows = rows.filter(name=name)
        if resolution == Resolution.HOUR:
            rows = rows.order_by("name", "hour").values_list(
                "name", "unit", "hour", "min", "sum", "max", "count"
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
            current.points.append([row[2], row[3]])
        else:
            _, _, at, low, total, high, count = row
            current.points.append([at, low, total / count, high, count])
    return list(series.values())
