import math
import random
from datetime import UTC, datetime, timedelta

from monitoring.choices import AnomalyKind
from monitoring.detectors import BaselineSettings, detect_anomalies

T0 = datetime(2026, 3, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


def readings(values):
    return [(T0 + i * HOUR, value) for i, value in enumerate(values)]


def gaussian(count: int, level: float = 10.0, sigma: float = 0.2, seed: int = 1):
    rng = random.Random(seed)
    return [level + rng.gauss(0.0, sigma) for _ in range(count)]


def test_noise_within_the_baseline_raises_nothing():
    for seed in range(5):
        assert detect_anomalies(readings(gaussian(1500, seed=seed))) == []


def test_a_step_raises_exactly_one_anomaly_at_the_step():
    values = gaussian(400)
    values[200:] = [v + 2.0 for v in values[200:]]  # 10 sigma, and it stays

    anomalies = detect_anomalies(readings(values))

    assert len(anomalies) == 1
    (step,) = anomalies
    assert step.kind == AnomalyKind.VALUE
    assert step.at == T0 + 200 * HOUR
    assert step.value == values[200]
    assert abs(step.expected - 10.0) < 0.1
    assert step.score > 4.5
    assert abs(step.value - step.expected) > step.band


def test_a_step_down_raises_one_anomaly_with_a_negative_score():
    values = gaussian(400)
    values[300:] = [v - 2.0 for v in values[300:]]

    anomalies = detect_anomalies(readings(values))

    assert [(a.at, a.kind, a.score < 0) for a in anomalies] == [
        (T0 + 300 * HOUR, AnomalyKind.VALUE, True)
    ]


def test_a_spike_raises_one_anomaly_and_the_baseline_is_not_moved_by_it():
    values = gaussian(400)
    values[150:153] = [20.0, 21.0, 20.0]

    anomalies = detect_anomalies(readings(values))

    assert [a.at for a in anomalies] == [T0 + 150 * HOUR]


def test_two_separate_excursions_raise_two_anomalies():
    values = gaussian(600)
    values[200:203] = [15.0] * 3
    values[400:403] = [15.0] * 3

    anomalies = detect_anomalies(readings(values))

    assert [a.at for a in anomalies] == [T0 + 200 * HOUR, T0 + 400 * HOUR]


def test_a_slow_drift_is_raised_once_as_a_drift():
    values = gaussian(800)
    # A sigma every 20 h: the moving mean lags it by about one sigma, which the CUSUM adds up.
    values[300:] = [v + 0.01 * i for i, v in enumerate(values[300:])]

    anomalies = detect_anomalies(readings(values))

    drifts = [a for a in anomalies if a.kind == AnomalyKind.DRIFT]
    assert len(drifts) == 1
    assert drifts[0].at > T0 + 300 * HOUR
    assert drifts[0].score > 0


def test_nothing_is_flagged_during_the_warm_up():
    values = gaussian(60)
    values[10] = 50.0

    assert detect_anomalies(readings(values)) == []
    assert detect_anomalies(readings(values[:30])) == []


def test_a_constant_series_raises_nothing_and_its_floor_flags_a_real_change():
    values = [5.0] * 300
    assert detect_anomalies(readings(values)) == []

    values[200:] = [5.001] * 100  # under the floor of 0.5 % of the level
    assert detect_anomalies(readings(values)) == []

    values[200:] = [5.5] * 100
    assert [a.at for a in detect_anomalies(readings(values))] == [T0 + 200 * HOUR]


def test_nan_values_gaps_and_duplicates_do_not_raise_anything():
    points = readings(gaussian(1000))
    points = [p for p in points if not T0 + 300 * HOUR <= p[0] < T0 + 400 * HOUR]
    points += [(T0 + i * HOUR, math.nan) for i in range(0, 1000, 13)]
    points += [(T0 + i * HOUR, math.inf) for i in range(5, 1000, 50)]
    points += readings(gaussian(1000, seed=2))[::10]  # a second reading at some instants

    assert detect_anomalies(points) == []


def test_too_few_points_raise_nothing():
    assert detect_anomalies([]) == []
    assert detect_anomalies(readings([1.0, 100.0])) == []


def test_a_lasting_step_inside_a_wider_band_is_caught_once_as_a_drift():
    values = gaussian(400)
    values[200:] = [v + 1.4 for v in values[200:]]  # 7 sigma

    default = detect_anomalies(readings(values))
    wide = detect_anomalies(readings(values), settings=BaselineSettings(k=10.0))

    assert [a.kind for a in default] == [AnomalyKind.VALUE]
    assert [a.kind for a in wide] == [AnomalyKind.DRIFT]
    assert T0 + 200 * HOUR < wide[0].at < T0 + 220 * HOUR
