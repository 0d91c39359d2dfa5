"""The demo's condition monitoring: four watched measurements per plant with 21 days of hourly
values, then the beat's work done once (hourly aggregates, assessment):

- a pump's vibration wearing linearly towards its alarm limit (a proposed work order, about
  16 days out);
- a compressor's bearing temperature wearing exponentially (with a healthy level; proposed,
  about 11 days out);
- a pump's vibration that stays healthy (flat: nothing);
- a motor current that stepped up two days ago (one `anomaly.motor_current` alert, recorded).
"""

import math
import random
from datetime import datetime, timedelta

from condition.assessment import measurements_assess
from monitoring.choices import Direction, MeasurementSource
from monitoring.services import (
    MeasurementIn,
    measurements_aggregate,
    measurements_record,
    monitored_measurement_save,
)

DAYS = 21
STEP = timedelta(hours=1)
BATCH = 500


def seed_condition(sites: dict, equipment: dict, *, now: datetime, rng: random.Random) -> None:
    """Watched measurements and their history at every site, assessed as of `now`."""
    start = now - timedelta(days=DAYS)
    instants = []
    at = start
    while at <= now:
        instants.append(at)
        at += STEP
    values: list[MeasurementIn] = []
    for code in sites:
        pumps = [u for u in equipment[code] if u.tag.startswith("P-")]
        compressors = [u for u in equipment[code] if u.tag.startswith("C-")] or pumps
        wearing, healthy = pumps[0], pumps[-1]
        hot = compressors[0]
        for asset, spec in (
            (wearing, _linear_wear(rng)),
            (hot, _exponential_wear(rng)),
            (healthy, _healthy(rng)),
            (pumps[len(pumps) // 2], _step(rng, now)),
        ):
            name, unit, limits, curve = spec
            monitored_measurement_save(asset=asset, name=name, unit=unit, **limits)
            values += [
                MeasurementIn(
                    asset_id=asset.pk,
                    name=name,
                    unit=unit,
                    value=round(curve(at, (at - start).total_seconds() / 86400), 3),
                    at=at,
                    source=MeasurementSource.READING,
                )
                for at in instants
            ]
    for first in range(0, len(values), BATCH):
        measurements_record(measurements=values[first : first + BATCH])
    measurements_aggregate(now=now)
    measurements_assess(now=now)


def _linear_wear(rng):
    """Vibration rising 0.12 mm/s a day from 2.6: 7.1 mm/s about 16 days after today."""
    limits = {"alarm_limit": 7.1, "warning_limit": 4.5, "direction": Direction.ABOVE}
    return "vibration", "mm/s", limits, lambda at, day: 2.6 + 0.12 * day + rng.gauss(0, 0.08)


def _exponential_wear(rng):
    """Bearing temperature 45 °C + 2.2 e^(0.09 day): 85 °C about 11 days after today."""
    limits = {
        "alarm_limit": 85.0,
        "warning_limit": 70.0,
        "healthy_level": 45.0,
        "direction": Direction.ABOVE,
    }
    return (
        "bearing_temperature",
        "°C",
        limits,
        lambda at, day: 45.0 + 2.2 * math.exp(0.09 * day) + rng.gauss(0, 0.3),
    )


def _healthy(rng):
    """Vibration steady about 2.2 mm/s, with noise and a daily swing."""
    limits = {"alarm_limit": 7.1, "warning_limit": 4.5, "healthy_level": 1.5}
    return (
        "vibration",
        "mm/s",
        limits,
        lambda at, day: 2.2 + 0.1 * math.sin(2 * math.pi * day) + rng.gauss(0, 0.06),
    )


def _step(rng, now):
    """Motor current steady about 12 A until two days ago, then 14.5 A: one anomaly."""
    step_at = now - timedelta(days=2)
    limits = {"alarm_limit": 18.0, "warning_limit": 16.0}
    return (
        "motor_current",
        "A",
        limits,
        lambda at, day: (14.5 if at >= step_at else 12.0) + rng.gauss(0, 0.15),
    )
