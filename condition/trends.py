"""One asset's measurements over a recent span, for the trend charts of its pages.

`asset_trends` gathers what the charts show, in five queries whatever the number of
measurements (hourly aggregates or raw values, the raw tail, the watched measurements, the
alerts, the work orders); `trend_chart` lays one measurement out with `cmms.charts`. The
caller scopes: it passes an asset it looked up with `Asset.objects.for_user`.
"""

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone
from django.utils.timesince import timesince

from alerts.models import Alert
from cmms import charts
from monitoring.choices import Resolution
from monitoring.models import Measurement, MeasurementHour, MonitoredMeasurement
from pipeline.choices import Severity
from workorders.models import WorkOrder

DAY_CHOICES = (7, 30, 90)
DEFAULT_DAYS = 30
RAW_UP_TO = timedelta(days=2)  # longer spans are drawn from the hourly aggregates
MAX_ROWS = 50_000  # rows of values read for one page (90 days x 24 h x ~23 measurements)
MAX_EVENTS = 200  # alerts, and work orders, marked on one page
MAX_DRAWN = 360  # points drawn on one chart; more are merged into longer periods

SEVERITY_COLOURS = {  # each at least 3:1 on white (WCAG 1.4.11, graphics)
    Severity.CRITICAL: "#b42318",
    Severity.MAJOR: "#c2410c",
    Severity.MINOR: "#9a6700",
    Severity.WARNING: "#7048e8",
}
LIMIT_COLOURS = {"Alarm": "#b42318", "Warning": "#c2410c", "Healthy": "#237032"}


def parse_days(value) -> int:
    """The span asked for (`?days=`), one of DAY_CHOICES; anything else is the default."""
    try:
        days = int(value)
    except (TypeError, ValueError):
        return DEFAULT_DAYS
    return days if days in DAY_CHOICES else DEFAULT_DAYS


@dataclass
class MeasurementTrend:
    """One measurement of the asset over the span: points are (at, low, mean, high)."""

    name: str
    unit: str = ""
    points: list[tuple] = field(default_factory=list)
    last_value: float | None = None
    last_at: datetime | None = None
    monitored: MonitoredMeasurement | None = None
    alerts: list[Alert] = field(default_factory=list)
    work_orders: list[WorkOrder] = field(default_factory=list)

    @property
    def conditions(self) -> set[str]:
        """The alert and work order conditions about this measurement."""
        return {self.name, f"anomaly.{self.name}", f"trend.{self.name}"}


@dataclass
class AssetTrends:
    days: int
    start: datetime
    end: datetime
    resolution: str
    trends: list[MeasurementTrend]
    truncated: bool = False  # more rows than MAX_ROWS: the oldest were left out


def asset_trends(*, asset, days: int = DEFAULT_DAYS, now: datetime | None = None) -> AssetTrends:
    """Every measurement of `asset` with values in the last `days` days, watched or not, by
    name, with its limits (when watched), its last value and the alerts and work orders of the
    span. Five queries, whatever the number of measurements (two when there is none).

    Over RAW_UP_TO the values are the hourly aggregates (a point per hour at its middle: min,
    mean, max), merged into longer periods past MAX_DRAWN points. The aggregation runs every
    few minutes, so the newest values are read raw (the "tail" since the newest aggregated
    hour): the last value and its time are the newest of the tail and the hours' last values.
    """
    end = now or timezone.now()
    start = end - timedelta(days=days)
    resolution = Resolution.RAW if end - start <= RAW_UP_TO else Resolution.HOUR
    found: dict[str, MeasurementTrend] = {}
    truncated = False

    def trend(name: str, unit: str) -> MeasurementTrend:
        if name not in found:
            found[name] = MeasurementTrend(name=name, unit=unit)
        return found[name]

    tail_from = start
    if resolution == Resolution.HOUR:
        hours = list(
            MeasurementHour.objects.filter(asset_id=asset.pk, hour__gte=start, hour__lt=end)
            .order_by("-hour", "name")
            .values_list(
                "name", "unit", "hour", "min", "max", "sum", "count", "last_value", "last_at"
            )[: MAX_ROWS + 1]
        )
        truncated = len(hours) > MAX_ROWS
        for name, unit, hour, low, high, total, count, last_value, last_at in reversed(
            hours[:MAX_ROWS]
        ):
            current = trend(name, unit)
            current.unit = unit  # the newest unit names the series
            # At the middle of its hour, or at its last value when the hour is not over.
            middle = min(hour + timedelta(minutes=30), last_at)
            current.points.append((middle, low, total, count, high))
            current.last_value, current.last_at = last_value, last_at
        if hours:
            tail_from = hours[0][2]  # the newest aggregated hour
    raw = list(
        Measurement.objects.filter(asset_id=asset.pk, at__gte=tail_from, at__lte=end)
        .order_by("-at", "name")
        .values_list("name", "unit", "at", "value")[: MAX_ROWS + 1]
    )
    truncated = truncated or len(raw) > MAX_ROWS
    for name, unit, at, value in reversed(raw[:MAX_ROWS]):
        current = trend(name, unit)
        current.unit = unit
        if resolution == Resolution.RAW:
            current.points.append((at, value, value, 1, value))
        if current.last_at is None or at >= current.last_at:
            current.last_value, current.last_at = value, at
    for current in found.values():
        current.points = _merged(current.points)
        last = current.points[-1][0] if current.points else None
        if resolution == Resolution.HOUR and (last is None or current.last_at > last):
            value = current.last_value
            current.points.append((current.last_at, value, value, value))

    if not found:  # nothing to chart: no limits or events to look for
        return AssetTrends(days, start, end, resolution, [], truncated)
    for monitored in MonitoredMeasurement.objects.filter(asset_id=asset.pk, name__in=found):
        found[monitored.name].monitored = monitored
    by_condition = {
        condition: current for current in found.values() for condition in current.conditions
    }
    alerts = Alert.objects.filter(
        asset_id=asset.pk, observed_at__gte=start, observed_at__lte=end
    ).order_by("-observed_at", "-id")[:MAX_EVENTS]
    for alert in alerts.only("id", "condition", "severity", "observed_at", "value", "unit"):
        if alert.condition in by_condition:
            by_condition[alert.condition].alerts.append(alert)
    span = Q(created_at__gte=start, created_at__lte=end) | Q(
        completed_at__gte=start, completed_at__lte=end
    )
    work_orders = WorkOrder.objects.filter(span, asset_id=asset.pk).order_by("-created_at", "-id")
    fields = ("id", "site_id", "number", "title", "status", "created_at", "completed_at")
    for work_order in work_orders.only(*fields, "condition")[:MAX_EVENTS]:
        # Work about no measurement of the asset (a repair) may explain a step in any of them.
        about = by_condition.get(work_order.condition)
        for current in [about] if about else found.values():
            current.work_orders.append(work_order)
    trends = sorted(found.values(), key=lambda t: t.name)
    return AssetTrends(days, start, end, resolution, trends, truncated)


def _merged(points: list[tuple]) -> list[tuple]:
    """(at, low, sum, count, high) as (at, low, mean, high), consecutive points merged into
    one (lowest low, mean of all, highest high) when there are more than MAX_DRAWN."""
    size = math.ceil(len(points) / MAX_DRAWN) or 1
    merged = []
    for i in range(0, len(points), size):
        chunk = points[i : i + size]
        total, count = sum(p[2] for p in chunk), sum(p[3] for p in chunk)
        mean = total / count if count else chunk[0][1]
        merged.append((chunk[0][0], min(p[1] for p in chunk), mean, max(p[4] for p in chunk)))
    return merged


def last_value_text(trend: MeasurementTrend, now: datetime) -> str:
    """ "12.3 mm/s · 4 minutes ago": the newest value and its age."""
    if trend.last_at is None:
        return "No value"
    age = "just now" if trend.last_at >= now else f"{timesince(trend.last_at, now, depth=1)} ago"
    return f"{charts.fmt_value(trend.last_value, trend.unit)} · {age}"


def trend_chart(
    trend: MeasurementTrend, trends: AssetTrends, *, tz: ZoneInfo, width: int = 640
) -> charts.TimeChart:
    """The chart of one measurement: its values, its limits, the projected crossing when it
    lies within the span plus the measurement's horizon, its alerts and work orders."""
    monitored = trend.monitored
    limits, projection = [], None
    if monitored is not None:
        for name, value in (
            ("Alarm", monitored.alarm_limit),
            ("Warning", monitored.warning_limit),
            ("Healthy", monitored.healthy_level),
        ):
            if value is not None:
                limits.append((name, value, LIMIT_COLOURS[name]))
        horizon = trends.end + timedelta(days=monitored.horizon_days)
        if (
            monitored.projected_at is not None
            and monitored.last_at is not None
            and monitored.last_value is not None
            and trends.start <= monitored.projected_at <= horizon
        ):
            projection = (
                max(monitored.last_at, trends.start),
                monitored.last_value,
                monitored.projected_at,
                monitored.alarm_limit,
            )
    events = [
        charts.TimeEvent(
            alert.observed_at,
            SEVERITY_COLOURS.get(alert.severity, charts.AXIS),
            f"Alert {alert.condition} ({alert.severity}) "
            f"{alert.observed_at.astimezone(tz):%d %b %H:%M}"
            + (f": {charts.fmt_value(alert.value, alert.unit)}" if alert.value is not None else ""),
        )
        for alert in trend.alerts
    ]
    for work_order in trend.work_orders:
        title = f"{work_order.number} {work_order.title} ({work_order.get_status_display()})"
        events.append(charts.TimeEvent(work_order.created_at, charts.EVENT_INK, title, True))
        if work_order.completed_at is not None:
            events.append(
                charts.TimeEvent(
                    work_order.completed_at, charts.ON_TIME, f"{title}: completed", True
                )
            )
    unit = f" ({trend.unit})" if trend.unit else ""
    return charts.time_series(
        label=f"{trend.name}{unit} over the last {trends.days} days",
        points=trend.points,
        start=trends.start,
        end=trends.end,
        tz=tz,
        limits=limits,
        events=events,
        projection=projection,
        now=trends.end,
        unit=trend.unit,
        width=width,
        fluid=width < 640,
    )
