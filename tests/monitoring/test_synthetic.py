import itertools
import math
from datetime import timedelta

from monitoring.synthetic import INTERVAL, KIND_CYCLE, SeriesKind, series_generate, set_generate


def test_a_set_is_the_same_for_the_same_seed_and_grows_by_its_prefix():
    assert set_generate(5, 8) == set_generate(5, 8)
    assert set_generate(5, 12)[:8] == set_generate(5, 8)
    assert set_generate(5, 8) != set_generate(6, 8)


def test_the_kinds_come_in_their_fixed_proportions():
    kinds = [s.kind for s in set_generate(1, 2 * len(KIND_CYCLE))]

    assert kinds == list(KIND_CYCLE) * 2


def test_wear_series_run_to_their_known_crossing():
    for index in range(40):
        series = series_generate(3, index)
        if series.kind not in (SeriesKind.LINEAR, SeriesKind.EXPONENTIAL):
            continue
        last = series.points[-1][0]
        assert series.crossing_at - INTERVAL <= last < series.crossing_at
        assert series.onset_at < series.crossing_at - timedelta(days=45)
        assert series.limit > series.healthy_level


def test_dropouts_leave_gaps_and_nan_readings():
    with_dropouts = [s for s in set_generate(3, 40) if s.dropouts]

    assert with_dropouts
    for series in with_dropouts:
        times = [at for at, _ in series.points]
        assert max(b - a for a, b in itertools.pairwise(times)) >= 6 * INTERVAL
        assert any(math.isnan(v) for _, v in series.points)


def test_a_step_series_changes_level_at_its_step():
    (series,) = [s for s in set_generate(4, 8) if s.kind == SeriesKind.STEP]

    before = [v for at, v in series.points if at < series.step_at - timedelta(days=2)]
    after = [v for at, v in series.points if at > series.step_at + timedelta(days=2)]
    change = abs(sum(after) / len(after) - sum(before) / len(before))
    assert 4 * series.noise < change < 11 * series.noise
