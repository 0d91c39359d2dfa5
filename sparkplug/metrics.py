"""Mapped Sparkplug metrics into meter readings and threshold alerts, through the same ingest
services as the webhooks (`pm.services.meters.meter_readings_ingest`,
`alerts.services.alerts_ingest`), so meter-based PM and alert processing see no difference.

Redelivery is harmless three times over: an exact redelivery is dropped by the host (same
sequence number and timestamp), a threshold rule judges only samples newer than the last it
judged (`MetricMapping.last_sample_ms`), and every reading and alert carries an id derived from
the mapping and the sample's timestamp, which the ingest services store once per gateway.
"""

import logging
import math
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from pydantic import ValidationError

from alerts.choices import AlertState
from alerts.schema import AlertIn
from alerts.services import alerts_ingest
from pm.readings_schema import ReadingIn
from pm.services.meters import meter_readings_ingest
from sparkplug.choices import MetricTarget
from sparkplug.models import MetricMapping

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sample:
    """One metric value of a message: its name, value and when it was taken."""

    name: str
    value: object
    at: datetime
    timestamp_ms: int
    historical: bool = False

    @property
    def number(self) -> float | None:
        """The value as a finite number, or None (text, bytes, NaN are not measurements)."""
        if isinstance(self.value, bool) or not isinstance(self.value, int | float):
            return None
        number = float(self.value)
        return number if math.isfinite(number) else None


def samples_apply(*, gateway, sensor, samples: list[Sample], now: datetime) -> None:
    """Feed the samples of one message to the active mappings of their metrics (the gateway's
    own when `sensor` is None, else the sensor's). Call inside the message's transaction."""
    if not samples:
        return
    mappings = list(
        MetricMapping.objects.select_for_update(of=("self",))
        .select_related("meter__asset", "asset", "sensor")
        .filter(
            gateway=gateway,
            sensor=sensor,
            is_active=True,
            metric__in={sample.name for sample in samples},
        )
        .order_by("pk")
    )
    if not mappings:
        return
    readings, alerts = [], []
    for sample in samples:
        number = sample.number
        if number is None:
            continue
        for mapping in (m for m in mappings if m.metric == sample.name):
            if mapping.target == MetricTarget.METER:
                readings += _reading(mapping, sample, number)
            elif not sample.historical:
                alerts += _threshold(mapping, sample, number)
    if readings:
        result = meter_readings_ingest(gateway=gateway, readings=readings, now=now)
        for item in result["results"]:
            if item["status"] not in ("accepted", "duplicate"):
                logger.warning("Sparkplug reading %s: %s", item["reading_id"], item)
    if alerts:
        alerts_ingest(gateway=gateway, alerts=alerts, now=now)


def _reading(mapping: MetricMapping, sample: Sample, number: float) -> list[ReadingIn]:
    meter = mapping.meter
    try:
        return [
            ReadingIn(
                reading_id=f"spb:{mapping.pk}:{sample.timestamp_ms}",
                asset=meter.asset.tag,
                meter=meter.code,
                value=number,
                observed_at=sample.at.isoformat(),
            )
        ]
    except ValidationError as exc:
        logger.warning("Sparkplug metric %s not a reading: %s", sample.name, exc)
        return []


def _threshold(mapping: MetricMapping, sample: Sample, number: float) -> list[AlertIn]:
    """The alert the value sends through the rule (raised once per crossing, cleared once back
    past the clear threshold), with the rule's new state saved. A sample not newer than the
    last one judged (a replay) is not judged again."""
    stamp, last = sample.timestamp_ms, mapping.last_sample_ms
    if stamp is not None and last is not None and stamp <= last:
        return []
    mapping.last_value, mapping.last_sample_ms = number, stamp
    state = None
    if not mapping.raised and mapping.crosses(number):
        mapping.raised, mapping.raised_at, state = True, sample.at, AlertState.ACTIVE
    elif mapping.raised and mapping.clears(number):
        mapping.raised, mapping.cleared_at, state = False, sample.at, AlertState.CLEARED
    mapping.save(
        update_fields=["last_value", "last_sample_ms", "raised", "raised_at", "cleared_at"]
    )
    if state is None:
        return []
    side = "reached" if state == AlertState.ACTIVE else "back past"
    limit = mapping.threshold if state == AlertState.ACTIVE else mapping.clear_threshold
    try:
        return [
            AlertIn(
                alert_id=f"spb:{mapping.pk}:{sample.timestamp_ms}:{state}",
                asset=mapping.asset.tag,
                condition=mapping.condition,
                severity=mapping.severity,
                state=state,
                observed_at=sample.at.isoformat(),
                value=number,
                threshold=mapping.threshold,
                unit=(mapping.sensor.unit if mapping.sensor_id else "")[:32],
                message=f"Sparkplug metric {sample.name} {number:g} {side} {limit:g}.",
            )
        ]
    except (ValidationError, DjangoValidationError) as exc:
        logger.warning("Sparkplug metric %s: alert not built: %s", sample.name, exc)
        return []
