import math
import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitoring.choices import Direction, Transform, TrendStatus
from monitoring.detectors import assess_trend, clean_points, project_crossing, theil_sen

T0 = datetime(2026, 3, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


def line(start: float, per_day: float, *, hours: int = 24 * 21, every: timedelta = HOUR):
    """A clean series from T0: start + per_day * days, one reading each `every`."""
    count = int(timedelta(hours=hours) / every)
    return [
        (T0 + i * every, start + per_day * (i * every / timedelta(days=1))) for i in range(count)
    ]


def noisy(points, sigma: float, seed: int = 1):
    rng = random.Random(seed)
    return [(at, value + rng.gauss(0.0, sigma)) for at, value in points]


def test_a_clean_linear_wear_gives_the_exact_crossing():
    # 2.0 rising 0.1 a day reaches 5.0 after 30 days.
    projection = project_crossing(line(2.0, 0.1), 5.0)

    assert abs(projection.crossing - (T0 + timedelta(days=30))) < timedelta(seconds=1)
    assert projection.earliest == projection.crossing == projection.latest
    assert projection.fit.slope == pytest.approx(0.1)


def test_a_falling_measurement_crosses_a_lower_limit():
    projection = project_crossing(line(9.0, -0.5), 1.0, direction=Direction.BELOW)

    assert abs(projection.crossing - (T0 + timedelta(days=16))) < timedelta(seconds=1)
    assert projection.fit.slope == pytest.approx(-0.5)
    assert projection.fit.value_at(T0) == pytest.approx(9.0)


def test_a_rising_measurement_recovers_from_a_lower_limit():
    assessment = assess_trend(noisy(line(3.0, 0.2), 0.1), 1.0, direction=Direction.BELOW)

    assert assessment.status == TrendStatus.RECOVERED
    assert 0 < assessment.fit.slope_low < 0.2 < assessment.fit.slope_high


def test_noisy_wear_is_projected_near_the_true_crossing_within_its_band():
    projection = project_crossing(noisy(line(2.0, 0.1), 0.1), 5.0)

    assert abs(projection.crossing - (T0 + timedelta(days=30))) < timedelta(days=1)
    assert projection.earliest < projection.crossing < projection.latest
    assert projection.fit.slope_low < 0.1 < projection.fit.slope_high


def test_a_recovered_trend_projects_nothing_and_says_recovered():
    falling = line(4.0, -0.1)

    assessment = assess_trend(falling, 5.0)

    assert assessment.status == TrendStatus.RECOVERED
    assert assessment.projection is None
    assert project_crossing(falling, 5.0) is None


def test_a_trend_that_turned_back_within_the_window_is_recovered():
    rising = line(2.0, 0.1, hours=24 * 30)
    turned = [(at + timedelta(days=30), 5.0 - 0.1 * i / 24) for i, (at, _) in enumerate(rising)]

    assessment = assess_trend(rising + turned, 6.0, window=timedelta(days=14))

    assert assessment.status == TrendStatus.RECOVERED


def test_noise_around_a_level_is_flat():
    assessment = assess_trend(noisy(line(3.0, 0.0), 0.2), 5.0)

    assert assessment.status == TrendStatus.FLAT
    assert assessment.projection is None


def test_a_constant_series_is_flat():
    assessment = assess_trend(line(3.0, 0.0), 5.0)

    assert assessment.status == TrendStatus.FLAT


def test_too_few_points_project_nothing():
    assessment = assess_trend(line(2.0, 0.1)[:9], 5.0)

    assert assessment.status == TrendStatus.INSUFFICIENT
    assert project_crossing(line(2.0, 0.1)[:9], 5.0) is None
    assert project_crossing([], 5.0) is None
    assert theil_sen([]) is None


def test_nan_and_infinite_values_are_ignored():
    points = line(2.0, 0.1)
    spoiled = [(at, math.nan if i % 7 == 0 else v) for i, (at, v) in enumerate(points)]
    spoiled += [(T0 + timedelta(minutes=30), math.inf), (T0 + timedelta(minutes=90), -math.inf)]

    projection = project_crossing(spoiled, 5.0)

    assert abs(projection.crossing - (T0 + timedelta(days=30))) < timedelta(seconds=1)


def test_gaps_from_sensor_dropouts_change_nothing_on_a_clean_line():
    points = [
        p for p in line(2.0, 0.1) if not T0 + timedelta(days=5) <= p[0] < T0 + timedelta(days=12)
    ]

    projection = project_crossing(points, 5.0)

    assert abs(projection.crossing - (T0 + timedelta(days=30))) < timedelta(seconds=1)


def test_duplicate_instants_are_merged_into_their_median():
    points = line(2.0, 0.1)
    doubled = (
        points
        + [(at, value + 1.0) for at, value in points]
        + [(at, value - 1.0) for at, value in points]
    )

    assert clean_points(doubled) == points
    assert abs(project_crossing(doubled, 5.0).crossing - (T0 + timedelta(days=30))) < timedelta(
        seconds=1
    )


def test_unordered_points_give_the_same_projection():
    points = noisy(line(2.0, 0.1), 0.1)

    assert project_crossing(list(reversed(points)), 5.0) == project_crossing(points, 5.0)


def test_points_after_now_and_before_the_window_are_not_looked_at():
    rising = line(2.0, 0.1)
    now = T0 + timedelta(days=10)
    later_drop = [(now + timedelta(hours=h), 0.0) for h in range(1, 100)]
    earlier_noise = [(T0 - timedelta(days=d), 100.0) for d in range(30, 60)]

    projection = project_crossing(earlier_noise + rising + later_drop, 5.0, now=now)

    assert abs(projection.crossing - (T0 + timedelta(days=30))) < timedelta(seconds=1)


def test_a_tiny_but_significant_slope_is_no_projection():
    assessment = assess_trend(line(2.0, 1e-12), 5.0)

    assert assessment.projection is None


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="Naive"):
        project_crossing([(datetime(2026, 3, 1), 1.0)], 5.0)


def test_long_windows_are_thinned_and_still_exact_on_a_clean_line():
    points = line(2.0, 0.1, every=timedelta(minutes=5))  # 6048 readings

    projection = project_crossing(points, 5.0)

    assert projection.fit.points == len(points)
    assert abs(projection.crossing - (T0 + timedelta(days=30))) < timedelta(seconds=1)


def test_exponential_wear_is_fitted_on_the_log_of_its_excess():
    # 1.0 + 0.2 e^(t/5 days) reaches 1.0 + 0.2 e^4 = 11.92 at 20 days.
    points = [(T0 + i * HOUR, 1.0 + 0.2 * math.exp(i / 24 / 5)) for i in range(24 * 14)]
    limit = 1.0 + 0.2 * math.exp(4)

    logged = project_crossing(points, limit, transform=Transform.LOG_EXCESS, offset=1.0)
    automatic = project_crossing(points, limit, transform=Transform.AUTO, offset=1.0)
    linear = project_crossing(points, limit)

    assert abs(logged.crossing - (T0 + timedelta(days=20))) < timedelta(seconds=1)
    assert automatic == logged
    assert linear.crossing > T0 + timedelta(days=21)  # a straight line is late


def test_auto_keeps_the_straight_line_for_linear_wear():
    projection = project_crossing(
        noisy(line(2.0, 0.1), 0.05), 5.0, transform=Transform.AUTO, offset=2.0
    )

    assert projection.fit.transform == Transform.LINEAR


def test_a_limit_short_of_the_healthy_level_is_refused_for_the_log_fit():
    with pytest.raises(ValueError, match="beyond the healthy level"):
        assess_trend(line(2.0, 0.1), 1.0, transform=Transform.LOG_EXCESS, offset=2.0)


@settings(max_examples=30, deadline=None)
@given(
    shift=st.integers(min_value=-(10**9), max_value=10**9),
    start=st.floats(min_value=-100, max_value=100),
    per_day=st.floats(min_value=0.05, max_value=10),
)
def test_the_projection_moves_with_the_series_in_time(shift, start, per_day):
    points = noisy(line(start, per_day, hours=24 * 7), per_day / 10, seed=3)
    moved = [(at + timedelta(seconds=shift), v) for at, v in points]
    limit = start + per_day * 20

    before, after = project_crossing(points, limit), project_crossing(moved, limit)

    assert abs(after.crossing - before.crossing - timedelta(seconds=shift)) < timedelta(
        milliseconds=1
    )


@settings(max_examples=30, deadline=None)
@given(zone=st.sampled_from(["UTC", "Europe/Paris", "America/Sao_Paulo", "Asia/Kolkata"]))
def test_the_projection_does_not_depend_on_the_time_zone_of_the_readings(zone):
    points = noisy(line(2.0, 0.1), 0.1)
    local = [(at.astimezone(ZoneInfo(zone)), v) for at, v in points]

    assert project_crossing(local, 5.0).crossing == project_crossing(points, 5.0).crossing
