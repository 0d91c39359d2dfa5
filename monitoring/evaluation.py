"""The detectors run over a synthetic set (monitoring/synthetic.py) and scored against its truth.

Definitions (docs/monitoring.md):
- Projection error at d days out: |projected crossing - true crossing| with the readings up to
  d days before the true crossing, in days and as a share of d (the remaining time). A wear
  series without a projection then counts as an unbounded error, so a miss can only raise the
  median; the share of series with a projection is reported next to it.
- False alarm: a healthy series for which any daily check from day 30 to its end proposes work
  (a projected crossing within the horizon).
- Detection delay: readings (and hours) from a step to the first anomaly at or after it.
- Wear warning: days from the first anomaly after the wear's onset to the true crossing.
"""

import math
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from monitoring.detectors import BaselineSettings, assess_trend, detect_anomalies
from monitoring.synthetic import SeriesKind, SyntheticSeries, set_generate

DAYS_OUT = (30, 14, 7)
HORIZON = timedelta(days=30)
FIRST_CHECK = timedelta(days=30)
CHECK_EVERY = timedelta(days=1)


@dataclass(frozen=True)
class Method:
    """How a trend is fitted: a window and a transform (see assess_trend)."""

    window: timedelta = timedelta(days=21)
    transform: str = "auto"
    confidence: float = 0.95


@dataclass
class Report:
    """The figures of one evaluation run."""

    seed: int
    counts: dict[str, int]
    # kind -> days out -> errors in days (math.inf: no projection)
    errors: dict[str, dict[int, list[float]]] = field(default_factory=dict)
    healthy_checked: int = 0
    healthy_proposals: int = 0
    healthy_anomalies: int = 0
    step_delays: list[int] = field(default_factory=list)  # readings; -1: missed
    step_anomaly_counts: list[int] = field(default_factory=list)
    wear_warnings: list[float] = field(default_factory=list)  # days before crossing; -1: none
    interval_hours: float = 2.0
    with_swing: bool = False

    def error_figures(self, days_out: int, kinds: tuple[str, ...]) -> dict[str, float]:
        """Median absolute error (days, % of remaining), share projected, for some kinds."""
        errors = [e for kind in kinds for e in self.errors.get(kind, {}).get(days_out, [])]
        if not errors:
            return {"median_days": math.nan, "median_pct": math.nan, "projected": math.nan}
        projected = [e for e in errors if math.isfinite(e)]
        median = statistics.median(errors)
        return {
            "median_days": median,
            "median_pct": 100 * median / days_out,
            "projected": len(projected) / len(errors),
            "median_projected_days": statistics.median(projected) if projected else math.nan,
        }

    @property
    def false_alarm_rate(self) -> float:
        return self.healthy_proposals / self.healthy_checked if self.healthy_checked else 0.0


def _up_to(series: SyntheticSeries, now: datetime):
    return [(at, v) for at, v in series.points if at <= now]


def _options(series: SyntheticSeries, method: Method) -> dict:
    options = {"window": method.window, "confidence": method.confidence}
    if method.transform != "linear":
        # The healthy level as a user would learn it: the median of the first week.
        first_week = [v for at, v in series.points[:84] if math.isfinite(v)]
        options |= {"transform": method.transform, "offset": statistics.median(first_week)}
    return options


def _projection_errors(series: SyntheticSeries, method: Method) -> dict[int, float]:
    errors = {}
    options = _options(series, method)
    for days_out in DAYS_OUT:
        now = series.crossing_at - timedelta(days=days_out)
        assessment = assess_trend(_up_to(series, now), series.limit, now=now, **options)
        projection = assessment.projection
        errors[days_out] = (
            abs((projection.crossing - series.crossing_at) / timedelta(days=1))
            if projection
            else math.inf
        )
    return errors


def _proposes(series: SyntheticSeries, method: Method) -> bool:
    """Whether any daily check of a healthy series would propose a work order."""
    options = _options(series, method)
    now, end = series.points[0][0] + FIRST_CHECK, series.points[-1][0]
    while now <= end:
        projection = assess_trend(series.points, series.limit, now=now, **options).projection
        if projection and projection.crossing <= now + HORIZON:
            return True
        now += CHECK_EVERY
    return False


def _step_delay(series: SyntheticSeries, settings: BaselineSettings) -> tuple[int, int]:
    """(readings from the step to its first anomaly or -1, anomalies from the step on)."""
    anomalies = detect_anomalies(series.points, settings=settings)
    after = [a for a in anomalies if a.at >= series.step_at]
    if not after:
        return -1, 0
    delay = sum(1 for at, _ in series.points if series.step_at <= at < after[0].at)
    return delay, len(after)


def _wear_warning(series: SyntheticSeries, settings: BaselineSettings) -> float:
    """Days from the first anomaly after the wear's onset to the crossing (-1: none)."""
    anomalies = detect_anomalies(series.points, settings=settings)
    after = [a for a in anomalies if a.at >= series.onset_at]
    if not after:
        return -1.0
    return (series.crossing_at - after[0].at) / timedelta(days=1)


def evaluate(
    *,
    seed: int,
    count: int,
    method: Method | None = None,
    settings: BaselineSettings | None = None,
    with_swing: bool = False,
) -> Report:
    """Generate `count` series with `seed`, run the detectors and score them."""
    method = method or Method()
    settings = settings or BaselineSettings()
    series_set = set_generate(seed, count, with_swing=with_swing)
    counts: dict[str, int] = {}
    for series in series_set:
        counts[series.kind] = counts.get(series.kind, 0) + 1
    report = Report(seed=seed, counts=counts, with_swing=with_swing)
    for series in series_set:
        if series.kind in (SeriesKind.LINEAR, SeriesKind.EXPONENTIAL):
            by_days = report.errors.setdefault(series.kind, {})
            for days_out, error in _projection_errors(series, method).items():
                by_days.setdefault(days_out, []).append(error)
            report.wear_warnings.append(_wear_warning(series, settings))
        elif series.kind == SeriesKind.HEALTHY:
            report.healthy_checked += 1
            report.healthy_proposals += _proposes(series, method)
            report.healthy_anomalies += len(detect_anomalies(series.points, settings=settings))
        else:
            delay, raised = _step_delay(series, settings)
            report.step_delays.append(delay)
            report.step_anomaly_counts.append(raised)
    return report


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def report_lines(report: Report, method: Method) -> list[str]:
    """The figures of a run as text, one per line, with their targets (issue 20)."""
    counts = ", ".join(f"{count} {kind}" for kind, count in sorted(report.counts.items()))
    lines = [
        f"Seed {report.seed}; {sum(report.counts.values())} series: {counts}"
        f"{'; with slow swings' if report.with_swing else ''}.",
        f"Trend: Theil-Sen over {method.window.days} days, transform {method.transform}, "
        f"slope interval {method.confidence:.0%}; proposal horizon {HORIZON.days} days.",
        "Projected crossing, median absolute error (a missing projection counts as unbounded):",
    ]
    wear = (SeriesKind.LINEAR, SeriesKind.EXPONENTIAL)
    for days_out in DAYS_OUT:
        for label, kinds in (("all wear", wear), *((kind, (kind,)) for kind in wear)):
            f = report.error_figures(days_out, kinds)
            lines.append(
                f"  {days_out:>2} days out, {label:<11}: {f['median_days']:.2f} days "
                f"({f['median_pct']:.1f} % of remaining), projected in {f['projected']:.0%}"
            )
    at_14 = report.error_figures(14, wear)["median_pct"]
    lines.append(f"  target at 14 days out: <= 20 % of remaining: {_verdict(at_14 <= 20)}")
    rate = report.false_alarm_rate
    lines.append(
        f"False-alarm rate of proposed work orders on healthy series: {rate:.1%} "
        f"({report.healthy_proposals} of {report.healthy_checked}, checked daily from day "
        f"{FIRST_CHECK.days}); target <= 2 %: {_verdict(rate <= 0.02)}"
    )
    detected = [d for d in report.step_delays if d >= 0]
    delay = _median(detected)
    exactly_one = sum(1 for c in report.step_anomaly_counts if c == 1)
    lines.append(
        f"Anomaly detection delay after a step: median {delay:.0f} readings "
        f"({delay * report.interval_hours:.0f} h), worst {max(detected, default=math.nan)}; "
        f"detected {len(detected)} of {len(report.step_delays)}; exactly one anomaly for "
        f"{exactly_one} of {len(report.step_anomaly_counts)} steps"
    )
    lines.append(
        f"Anomalies on healthy series: {report.healthy_anomalies} in {report.healthy_checked} "
        f"series"
    )
    warned = [w for w in report.wear_warnings if w >= 0]
    lines.append(
        f"First anomaly on wear series: {len(warned)} of {len(report.wear_warnings)}, median "
        f"{_median(warned):.1f} days before the crossing"
    )
    return lines


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"
