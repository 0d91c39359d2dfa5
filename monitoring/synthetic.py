"""Synthetic run-to-failure series with known answers, for evaluating the detectors.

Deterministic: series `i` of a set is drawn from its own generator seeded with `f"{seed}:{i}"`,
so a set is the same on every machine and Python version, and growing a set keeps its prefix.

Every series is sampled every `INTERVAL` from `START` around a healthy level with noise (AR(1),
so neighbouring readings are correlated as real ones are, plus a daily cycle of up to one sigma;
on request also a slow swing of 20 to 60 days and up to three sigmas), and is one of:

- `linear`: from a wear onset the level rises linearly and crosses the alarm limit at
  `crossing_at` (where the series ends: run to failure);
- `exponential`: the rise above the healthy level grows as exp(t/τ) and crosses at
  `crossing_at`;
- `step`: a lasting change of level of 5 to 10 noise sigmas at `step_at`, no wear;
- `healthy`: stationary for 90 days.

Half of the wear series have sensor dropouts: gaps of half a day to four days and isolated
missing readings (NaN).
"""

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import models

START = datetime(2026, 1, 1, tzinfo=UTC)
INTERVAL = timedelta(hours=2)
HEALTHY_DAYS = 90


class SeriesKind(models.TextChoices):
    LINEAR = "linear", "Linear wear"
    EXPONENTIAL = "exponential", "Exponential wear"
    STEP = "step", "Step change"
    HEALTHY = "healthy", "Healthy"


# The kinds of a set, in proportion: series i is KIND_CYCLE[i % len(KIND_CYCLE)].
KIND_CYCLE = (
    SeriesKind.LINEAR,
    SeriesKind.EXPONENTIAL,
    SeriesKind.HEALTHY,
    SeriesKind.LINEAR,
    SeriesKind.EXPONENTIAL,
    SeriesKind.HEALTHY,
    SeriesKind.STEP,
    SeriesKind.HEALTHY,
)


@dataclass(frozen=True)
class SyntheticSeries:
    """One generated series and what is known about it."""

    kind: str
    points: list[tuple[datetime, float]]
    healthy_level: float
    noise: float  # standard deviation of the noise
    limit: float  # the alarm limit (above)
    crossing_at: datetime | None  # when the noise-free signal reaches the limit
    onset_at: datetime | None  # when wear starts
    step_at: datetime | None
    dropouts: bool


def _noise(rng: random.Random, count: int, sigma: float) -> list[float]:
    """AR(1) noise with stationary standard deviation `sigma`."""
    phi = rng.uniform(0.0, 0.7)
    innovation = sigma * math.sqrt(1 - phi * phi)
    values, previous = [], rng.gauss(0.0, sigma)
    for _ in range(count):
        previous = phi * previous + rng.gauss(0.0, innovation)
        values.append(previous)
    return values


def series_generate(seed: int, index: int, *, with_swing: bool = False) -> SyntheticSeries:
    """Series `index` of the set drawn with `seed` (`with_swing`: add its slow swing)."""
    rng = random.Random(f"{seed}:{index}")
    kind = KIND_CYCLE[index % len(KIND_CYCLE)]
    level = rng.uniform(2.0, 6.0)
    sigma = level * rng.uniform(0.02, 0.06)
    limit = level * rng.uniform(1.8, 2.5)
    cycle = rng.uniform(0.0, 1.0) * sigma
    # A slow swing (ambient temperature, load): weeks long, up to 3 noise sigmas. Drawn even
    # when off, so a set with swings is the same set plus its swings.
    swing = rng.uniform(0.0, 3.0) * sigma * with_swing
    swing_days = rng.uniform(20.0, 60.0)
    swing_phase = rng.uniform(0.0, 2 * math.pi)
    per_day = timedelta(days=1) / INTERVAL
    crossing_at = step_at = onset_at = None
    dropouts = False

    if kind in (SeriesKind.LINEAR, SeriesKind.EXPONENTIAL):
        onset = rng.uniform(5.0, 20.0)
        crossing = onset + rng.uniform(45.0, 80.0)
        count = math.ceil(crossing * per_day)  # the last reading is just before the crossing
        crossing_at = START + timedelta(days=crossing)
        onset_at = START + timedelta(days=onset)
        tau = rng.uniform(8.0, 25.0)

        def signal(day: float) -> float:
            worn = max(0.0, day - onset)
            if kind == SeriesKind.LINEAR:
                return level + (limit - level) * worn / (crossing - onset)
            return level + (limit - level) * math.expm1(worn / tau) / math.expm1(
                (crossing - onset) / tau
            )

        dropouts = rng.random() < 0.5
    else:
        count = HEALTHY_DAYS * round(per_day)
        step_day = rng.uniform(20.0, 60.0) if kind == SeriesKind.STEP else None
        step = rng.choice((-1, 1)) * rng.uniform(5.0, 10.0) * sigma
        if step_day is not None:
            step_at = START + timedelta(days=step_day)

        def signal(day: float) -> float:
            return level + (step if step_day is not None and day >= step_day else 0.0)

    noise = _noise(rng, count, sigma)
    times = [START + i * INTERVAL for i in range(count)]
    values: list[float | None] = [
        signal(_days(at))
        + math.sin(2 * math.pi * _days(at)) * cycle
        + math.sin(2 * math.pi * _days(at) / swing_days + swing_phase) * swing
        + n
        for at, n in zip(times, noise, strict=True)
    ]
    if dropouts:
        values = _dropped(rng, values)
    points = [(at, v) for at, v in zip(times, values, strict=True) if v is not None]
    return SyntheticSeries(
        kind, points, level, sigma, limit, crossing_at, onset_at, step_at, dropouts
    )


def _days(at: datetime) -> float:
    return (at - START) / timedelta(days=1)


def _dropped(rng: random.Random, values: list[float | None]) -> list[float | None]:
    """Gaps of 0.5 to 4 days (None: no reading) and isolated NaN readings (1 %)."""
    per_day = round(timedelta(days=1) / INTERVAL)
    values = list(values)
    for _ in range(rng.randint(1, 3)):
        length = int(rng.uniform(0.5, 4.0) * per_day)
        # No gap in the last 10 days: the evaluation reads up to 7 days before the crossing.
        start = rng.randrange(0, max(1, len(values) - length - 10 * per_day))
        values[start : start + length] = [None] * len(values[start : start + length])
    return [math.nan if v is not None and rng.random() < 0.01 else v for v in values]


def set_generate(seed: int, count: int, *, with_swing: bool = False) -> list[SyntheticSeries]:
    """The first `count` series of the set drawn with `seed`."""
    return [series_generate(seed, index, with_swing=with_swing) for index in range(count)]
