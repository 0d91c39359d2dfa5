"""Detectors over one measurement's series: pure functions, no database.

A series is a sequence of `(instant, value)` points with timezone-aware instants (a naive one
is a programming error: ValueError); instants in results are in UTC. Before any detector
looks at a series it is cleaned (`clean_points`): values that are not finite numbers (NaN, inf:
a sensor's dropout marker) are dropped, points are sorted by time, and points sharing an
instant are merged into their median.
Gaps (sensor dropouts) need no filling: both detectors work on irregular time.

Two detectors (docs/monitoring.md has the definitions and the evaluation behind the defaults):

- `detect_anomalies`: an exponentially weighted baseline (mean and variance) learnt from the
  series itself, a k-sigma band around it, and a CUSUM of the standardised residuals for slow
  drifts. One excursion raises one anomaly: an episode stays open until the values have been
  back well inside the band for a few points.
- `assess_trend` / `project_crossing`: a Theil-Sen line over a recent window, with Sen's (1968)
  nonparametric confidence interval for the slope; the crossing of the alarm limit is projected
  only when the whole interval points towards the limit (a significant trend), with an
  earliest/latest band from the interval's two slopes.
"""

import itertools
import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from monitoring.choices import AnomalyKind, Direction, Transform, TrendStatus

Point = tuple[datetime, float]

DAY_SECONDS = 86_400.0
# A significant but tiny slope reaches the limit in centuries: that is no projection.
MAX_PROJECTION_DAYS = 36_500.0


def clean_points(points: Iterable[Point]) -> list[Point]:
    """The series in UTC sorted by time, non-finite values dropped, equal instants merged.

    UTC because Python subtracts and adds datetimes of one zone on the wall clock: across a
    daylight-saving change, local instants would be an hour off.
    """
    by_instant: dict[datetime, list[float]] = {}
    for at, value in points:
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError(f"Naive datetime {at!r}: measurements carry a time zone")
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number):
            by_instant.setdefault(at.astimezone(UTC), []).append(number)
    return [(at, statistics.median(values)) for at, values in sorted(by_instant.items())]


# --- Anomalies -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BaselineSettings:
    """The parameters of `detect_anomalies` (the defaults are the evaluated ones).

    alpha: weight of a new point in the exponentially weighted mean (0.05: the level
        remembers about the last 2/alpha = 40 points).
    variance_alpha: the same for the variance of the residuals, slower (0.01: about 200
        points) because a variance learnt from few correlated points is often too small.
    warm_up: points used to start the baseline (plain mean and variance); nothing is flagged
        before it is learnt.
    k: half-width of the band in sigmas; a value further than k sigma from the expected one
        is an anomaly (4.5: about one false flag in 150,000 Gaussian points).
    min_sigma_relative, min_sigma_absolute: a floor under sigma, as a share of the level and
        in the measurement's unit, so a nearly constant series does not flag its last digit.
    clear_after, clear_within: an open episode closes after `clear_after` consecutive points
        within `clear_within` sigma; until then no new value anomaly is raised.
    relearn_alpha: the mean's weight while an episode is open, so a lasting step becomes the
        new baseline quickly instead of leaving a long tail of residuals (the variance is not
        updated from the episode's points).
    drift_slack, drift_threshold: the CUSUM's allowance and decision interval, in sigmas (0.5
        and 12). The moving mean lags a trend by slope/alpha, so wear keeps the residuals on
        one side and the CUSUM adds them up: a lag of one sigma is flagged after 24 points.
        Residuals are clipped at k sigma (one outlier is no drift) and scaled by
        sqrt((1 - rho)/(1 + rho)), rho their learnt lag-1 autocorrelation, because sums of
        correlated noise wander further than independent noise (without it, one healthy
        series in six raised a drift in the evaluation).
    """

    alpha: float = 0.05
    variance_alpha: float = 0.01
    warm_up: int = 30
    k: float = 4.5
    min_sigma_relative: float = 0.005
    min_sigma_absolute: float = 1e-9
    clear_after: int = 5
    clear_within: float = 2.0
    relearn_alpha: float = 0.3
    drift_slack: float = 0.5
    drift_threshold: float = 12.0


@dataclass(frozen=True)
class Anomaly:
    """A point where the series left its baseline: `value` against `expected` ± `band`."""

    at: datetime
    value: float
    expected: float
    band: float
    score: float  # the residual in sigmas (signed); for a drift, the CUSUM statistic
    kind: str  # AnomalyKind


def detect_anomalies(
    points: Iterable[Point], *, settings: BaselineSettings | None = None
) -> list[Anomaly]:
    """The anomalies of a series, oldest first: one per excursion or drift, not one per point.

    The baseline is learnt from the series itself and keeps learning, so a lasting change of
    level is flagged once and then becomes the new normal.
    """
    s = settings or BaselineSettings()
    series = clean_points(points)
    if len(series) <= s.warm_up:
        return []
    warm = [value for _, value in series[: s.warm_up]]
    mean = statistics.fmean(warm)
    variance = statistics.pvariance(warm, mean)
    anomalies: list[Anomaly] = []
    in_episode = False
    calm_points = 0
    cusum_up = cusum_down = 0.0
    autocovariance = 0.0
    previous_residual = 0.0
    drift_open = 0  # +1 / -1 while a raised drift has not yet wound down

    for at, value in series[s.warm_up :]:
        sigma = max(math.sqrt(variance), s.min_sigma_relative * abs(mean), s.min_sigma_absolute)
        residual = value - mean
        z = residual / sigma
        band = s.k * sigma
        if abs(z) > s.k:
            if not in_episode:
                anomalies.append(Anomaly(at, value, mean, band, z, AnomalyKind.VALUE))
                in_episode = True
            calm_points = 0
        elif in_episode:
            calm_points = calm_points + 1 if abs(z) <= s.clear_within else 0
            if calm_points >= s.clear_after:
                in_episode = False

        if in_episode:
            # Re-learn the level quickly and leave the variance and the CUSUM alone: the
            # episode is already reported and must not be reported again as a drift.
            mean += s.relearn_alpha * residual
            cusum_up = cusum_down = 0.0
            continue

        # Neighbouring readings are correlated, which makes sums of residuals wander further
        # than independent noise would: scale the increments by the AR(1) variance factor.
        autocovariance += s.variance_alpha * (residual * previous_residual - autocovariance)
        previous_residual = residual
        rho = max(0.0, min(0.95, autocovariance / max(variance, 1e-300)))
        clipped = max(-s.k, min(s.k, z)) * math.sqrt((1 - rho) / (1 + rho))
        cusum_up = max(0.0, cusum_up + clipped - s.drift_slack)
        cusum_down = max(0.0, cusum_down - clipped - s.drift_slack)
        for sign, cusum in ((1, cusum_up), (-1, cusum_down)):
            if cusum > s.drift_threshold and drift_open != sign:
                score = sign * cusum
                anomalies.append(Anomaly(at, value, mean, band, score, AnomalyKind.DRIFT))
                drift_open = sign
            elif cusum == 0.0 and drift_open == sign:
                drift_open = 0

        mean += s.alpha * residual
        variance = (1 - s.variance_alpha) * (variance + s.variance_alpha * residual * residual)
    return anomalies


# --- Trends and projected crossings ---------------------------------------------------------


@dataclass(frozen=True)
class TrendFit:
    """A Theil-Sen line over a window: value = intercept + slope * days since `origin`.

    slope_low and slope_high bound the slope with the fit's confidence (Sen 1968). A
    `log_excess` fit is in log(distance from the healthy level towards the limit).
    """

    origin: datetime
    slope: float  # per day
    intercept: float
    slope_low: float
    slope_high: float
    points: int
    window_start: datetime
    window_end: datetime
    transform: str = Transform.LINEAR
    offset: float = 0.0

    def value_at(self, at: datetime) -> float:
        """The fitted value at `at`, in the fitted (possibly transformed) scale."""
        return self.intercept + self.slope * _days(at, self.origin)


@dataclass(frozen=True)
class Projection:
    """When the trend reaches the limit: `crossing`, within `earliest` … `latest`."""

    crossing: datetime
    earliest: datetime
    latest: datetime
    fit: TrendFit


@dataclass(frozen=True)
class TrendAssessment:
    """What a window's trend says about a limit: a status and, if approaching, a projection."""

    status: str  # TrendStatus
    fit: TrendFit | None
    projection: Projection | None


def _days(at: datetime, origin: datetime) -> float:
    return (at - origin).total_seconds() / DAY_SECONDS


def _thinned(xs: Sequence[float], ys: Sequence[float], max_points: int):
    """At most `max_points` points: consecutive runs replaced by their medians (deterministic).

    Fewer, less noisy points give a wider slope interval, so thinning errs on the cautious side.
    """
    n = len(xs)
    if n <= max_points:
        return list(xs), list(ys)
    bounds = [round(i * n / max_points) for i in range(max_points + 1)]
    pairs = [
        (statistics.median(xs[a:b]), statistics.median(ys[a:b]))
        for a, b in itertools.pairwise(bounds)
        if b > a
    ]
    return [x for x, _ in pairs], [y for _, y in pairs]


def theil_sen(
    points: Iterable[Point],
    *,
    confidence: float = 0.95,
    min_points: int = 10,
    max_points: int = 128,
    transform: str = Transform.LINEAR,
    offset: float = 0.0,
) -> TrendFit | None:
    """The Theil-Sen line of the points, or None with fewer than `min_points` usable points.

    Slope: the median of the slopes between all pairs of points (robust to about 29 % of wild
    points); intercept: the median of value - slope * time. The slope's interval is Sen's:
    with N pairwise slopes sorted and C = z * sqrt(n(n-1)(2n+5)/18) (the variance of Kendall's
    S without ties), the slopes of rank (N - C)/2 and (N + C)/2. With `transform="log_excess"`
    the line is fitted to log(value - offset) (points at or under `offset` are left out).
    """
    series = clean_points(points)
    if transform == Transform.LOG_EXCESS:
        series = [(at, math.log(v - offset)) for at, v in series if v > offset]
    if len(series) < max(min_points, 3):
        return None
    origin = series[0][0]
    xs, ys = _thinned([_days(at, origin) for at, _ in series], [v for _, v in series], max_points)
    n = len(xs)
    slopes = sorted((ys[j] - ys[i]) / (xs[j] - xs[i]) for i in range(n) for j in range(i + 1, n))
    count = len(slopes)
    slope = statistics.median(slopes)
    intercept = statistics.median(y - slope * x for x, y in zip(xs, ys, strict=True))
    z = statistics.NormalDist().inv_cdf(0.5 + confidence / 2)
    spread = z * math.sqrt(n * (n - 1) * (2 * n + 5) / 18)
    low_rank = max(0, math.floor((count - spread) / 2))
    high_rank = min(count - 1, math.ceil((count + spread) / 2))
    return TrendFit(
        origin=origin,
        slope=slope,
        intercept=intercept,
        slope_low=slopes[low_rank],
        slope_high=slopes[high_rank],
        points=len(series),
        window_start=series[0][0],
        window_end=series[-1][0],
        transform=transform,
        offset=offset,
    )


def assess_trend(
    points: Iterable[Point],
    limit: float,
    *,
    direction: str = Direction.ABOVE,
    now: datetime | None = None,
    window: timedelta = timedelta(days=21),
    min_points: int = 10,
    confidence: float = 0.95,
    max_points: int = 128,
    transform: str = Transform.LINEAR,
    offset: float = 0.0,
) -> TrendAssessment:
    """The trend of the last `window` before `now` (default: the last point) against `limit`.

    `approaching` only when the whole slope interval points towards the limit; `recovered`
    when it points away, `flat` when it holds zero. Points after `now` are not looked at. With
    `transform="log_excess"` the fit is on log(distance from `offset`, the healthy level, in
    the direction of the limit): exponential wear becomes a straight line. The crossing is in
    the past when the fitted line is already beyond the limit (the limit's own alarm is then
    the news, not the projection).
    """
    series = clean_points(points)
    if now is None:
        if not series:
            return TrendAssessment(TrendStatus.INSUFFICIENT, None, None)
        now = series[-1][0]
    sign = 1.0 if direction == Direction.ABOVE else -1.0
    recent = [(at, sign * v) for at, v in series if now - window <= at <= now]
    if transform != Transform.LINEAR and sign * limit <= sign * offset:
        raise ValueError("The limit must lie beyond the healthy level (offset)")
    fit_options = {"confidence": confidence, "min_points": min_points, "max_points": max_points}
    if transform == Transform.AUTO:
        fit = _better_fit(recent, sign * offset, fit_options)
    else:
        fit = theil_sen(recent, transform=transform, offset=sign * offset, **fit_options)
    if fit is None:
        return TrendAssessment(TrendStatus.INSUFFICIENT, None, None)
    status, projection = _projected(fit, sign * limit)
    if projection is not None:
        projection = replace(projection, fit=_unmirrored(fit, sign))
    return TrendAssessment(status, _unmirrored(fit, sign), projection)


def _unmirrored(fit: TrendFit, sign: float) -> TrendFit:
    """A straight-line fit of a mirrored series (limit below) back in the measurement's scale."""
    if sign > 0 or fit.transform != Transform.LINEAR:
        return fit
    return replace(
        fit,
        slope=-fit.slope,
        intercept=-fit.intercept,
        slope_low=-fit.slope_high,
        slope_high=-fit.slope_low,
        offset=-fit.offset,
    )


def _projected(fit: TrendFit, target: float) -> tuple[str, Projection | None]:
    """The status of a fit (of a series rising towards `target`) and its projection."""
    if fit.transform == Transform.LOG_EXCESS:
        target = math.log(target - fit.offset)
    if fit.slope_low <= 0 <= fit.slope_high or fit.slope == 0:
        return TrendStatus.FLAT, None
    if fit.slope_high < 0:
        return TrendStatus.RECOVERED, None
    # Pivot the three lines on the fitted value at the window's last point: the band widens
    # with the distance from the data, and the central line keeps its own intercept.
    pivot = _days(fit.window_end, fit.origin)
    pivot_value = fit.intercept + fit.slope * pivot
    crossing = pivot + (target - pivot_value) / fit.slope
    earliest = pivot + (target - pivot_value) / fit.slope_high
    latest = pivot + (target - pivot_value) / fit.slope_low
    if crossing - pivot > MAX_PROJECTION_DAYS:
        return TrendStatus.FLAT, None
    latest = min(latest, pivot + MAX_PROJECTION_DAYS)
    projection = Projection(
        crossing=fit.origin + timedelta(days=crossing),
        earliest=fit.origin + timedelta(days=min(earliest, crossing)),
        latest=fit.origin + timedelta(days=max(latest, crossing)),
        fit=fit,
    )
    return TrendStatus.APPROACHING, projection


def _residual_spread(fit: TrendFit, points: Sequence[Point]) -> float:
    """The median absolute residual of the fitted curve, in the measurement's own scale."""
    if fit.transform == Transform.LOG_EXCESS:
        fitted = [fit.offset + math.exp(min(fit.value_at(at), 700.0)) for at, _ in points]
    else:
        fitted = [fit.value_at(at) for at, _ in points]
    return statistics.median(abs(v - f) for (_, v), f in zip(points, fitted, strict=True))


def _better_fit(points: list[Point], offset: float, fit_options: dict) -> TrendFit | None:
    """The linear or the log-excess fit, whichever follows the window more closely.

    Ties go to the linear fit; the log-excess fit is a candidate only when at least 80 % of
    the points lie above the healthy level, so it never extrapolates from a handful of them.
    """
    points = clean_points(points)
    linear = theil_sen(points, **fit_options)
    if linear is None:
        return None
    excess = sum(1 for _, v in points if v > offset)
    if excess < 0.8 * len(points):
        return linear
    logged = theil_sen(points, transform=Transform.LOG_EXCESS, offset=offset, **fit_options)
    if logged is None:
        return linear
    if _residual_spread(logged, points) < _residual_spread(linear, points):
        return logged
    return linear


def project_crossing(
    points: Iterable[Point],
    limit: float,
    direction: str = Direction.ABOVE,
    *,
    now: datetime | None = None,
    **options,
) -> Projection | None:
    """When the measurement's trend crosses `limit`, or None (flat, recovered, too few points).

    A thin reading of `assess_trend` (same options) for callers that need only the date.
    """
    return assess_trend(points, limit, direction=direction, now=now, **options).projection
