"""Meter readings (people and gateways), explicit resets, and the statistics PM plans project.

A cumulative meter only grows between resets: a reading below the one before it (or above the
one after it, when readings arrive out of order) is refused with the reason. A reset is an
explicit, recorded action; readings after it count from its value, and PM thresholds keep
counting lifetime units (reading + the offset of the resets before it).
"""

import bisect
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from assets.models import Meter, MeterReading
from cmms.errors import NotPermitted
from monitoring.choices import MeasurementSource
from monitoring.services import MeasurementIn, measurements_record
from pm.choices import ReadingResult
from pm.models import GatewayReading, MeterReset
from workorders.policy import may_plan

RATE_WINDOW = timedelta(days=30)
MIN_RATE_SPAN = timedelta(hours=1)
FUTURE_TOLERANCE = timedelta(minutes=5)


class ReadingRefused(ValidationError):
    """A reading that contradicts the meter (backwards on a cumulative meter, in the future).

    A field error for the API; `code` and `reason` for the per-item answers of the webhook.
    """

    def __init__(self, field: str, reason: str, *, code: str):
        super().__init__({field: ValidationError(reason, code=code)})
        self.code = code
        self.reason = reason


def _check_user(by, meter: Meter) -> None:
    if by is None:
        return
    if not by.may_see_site(meter.asset.site_id):
        raise NotPermitted("You do not work at this site.")
    if by.is_customer_viewer:
        raise NotPermitted("Customer viewers cannot record meter readings.")


def _epoch(meter: Meter, at: datetime) -> tuple[MeterReset | None, MeterReset | None]:
    """The reset that started the period `at` falls in, and the one that ended it."""
    started = meter.resets.filter(reset_at__lte=at).order_by("-reset_at").first()
    ended = meter.resets.filter(reset_at__gt=at).order_by("reset_at").first()
    return started, ended


def check_reading(meter: Meter, value: Decimal, observed_at: datetime, *, now: datetime) -> None:
    """Raise ReadingRefused unless the reading fits the meter. Call holding the meter's lock."""
    if observed_at > now + FUTURE_TOLERANCE:
        raise ReadingRefused("observed_at", "The reading is in the future.", code="future")
    if not meter.cumulative:
        return
    started, ended = _epoch(meter, observed_at)
    readings = meter.readings.all()
    if started is not None:
        readings = readings.filter(observed_at__gte=started.reset_at)
    if ended is not None:
        readings = readings.filter(observed_at__lt=ended.reset_at)
    before = readings.filter(observed_at__lte=observed_at).order_by("-observed_at", "-id").first()
    after = readings.filter(observed_at__gt=observed_at).order_by("observed_at", "id").first()
    unit = meter.unit
    if before is not None and value < before.value:
        raise ReadingRefused(
            "value",
            (
                f"{value} {unit} is below the reading {before.value} {unit} of "
                f"{before.observed_at:%Y-%m-%d %H:%M %Z}; meter {meter.code} is cumulative. "
                "If the meter was reset or replaced, record a reset first."
            ),
            code="backwards",
        )
    if before is None and started is not None and value < started.value_after:
        raise ReadingRefused(
            "value",
            (
                f"{value} {unit} is below {started.value_after} {unit}, the value the "
                f"meter was reset to on {started.reset_at:%Y-%m-%d %H:%M %Z}."
            ),
            code="backwards",
        )
    if after is not None and value > after.value:
        raise ReadingRefused(
            "value",
            (
                f"{value} {unit} is above the later reading {after.value} {unit} of "
                f"{after.observed_at:%Y-%m-%d %H:%M %Z}; meter {meter.code} is cumulative."
            ),
            code="backwards",
        )


@transaction.atomic
def meter_reading_record(
    *, meter: Meter, value, observed_at: datetime, by=None, now: datetime | None = None
) -> MeterReading:
    """Record a reading; refuses one that goes backwards on a cumulative meter."""
    _check_user(by, meter)
    now = now or timezone.now()
    value = Decimal(value)
    locked = Meter.objects.select_for_update().select_related("asset").get(pk=meter.pk)
    check_reading(locked, value, observed_at, now=now)
    return MeterReading.objects.create(
        meter=locked, value=value, observed_at=observed_at, recorded_by=by
    )


@transaction.atomic
def meter_reset(
    *,
    meter: Meter,
    reason: str,
    value_after=Decimal("0"),
    reset_at: datetime | None = None,
    by=None,
) -> MeterReset:
    """Record that a cumulative meter was reset or replaced; later readings count from
    `value_after` while PM plans keep counting lifetime units."""
    _check_user(by, meter)
    if not may_plan(by):
        raise NotPermitted("Only planners reset meters.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the meter was reset."})
    locked = Meter.objects.select_for_update().get(pk=meter.pk)
    if not locked.cumulative:
        raise ValidationError({"meter": "Only cumulative meters are reset."})
    reset_at = reset_at or timezone.now()
    latest = locked.readings.order_by("-observed_at", "-id").first()
    if latest is not None and latest.observed_at > reset_at:
        raise ValidationError(
            {
                "reset_at": f"There is a later reading ({latest.value} {locked.unit} of "
                f"{latest.observed_at:%Y-%m-%d %H:%M %Z}); a reset comes after the last reading."
            }
        )
    previous = locked.resets.order_by("-reset_at").first()
    value_before = latest.value if latest is not None else Decimal("0")
    offset = (previous.offset if previous else Decimal("0")) + value_before - Decimal(value_after)
    reset = MeterReset(
        meter=locked,
        reset_at=reset_at,
        value_before=value_before,
        value_after=value_after,
        offset=offset,
        reason=reason.strip(),
        created_by=by,
    )
    reset.full_clean()
    reset.save()
    return reset


# --------------------------------------------------------------------------- projection


@dataclass
class MeterStatistics:
    """The latest lifetime reading of a meter and its recent rate (units per day)."""

    last_value: Decimal
    last_at: datetime
    rate_per_day: Decimal | None

    def projected(self, at: datetime) -> Decimal:
        """The lifetime reading expected at `at` (the last reading if no rate is known)."""
        if not self.rate_per_day or at <= self.last_at:
            return self.last_value
        return self.last_value + self.rate_per_day * _days(at - self.last_at)

    def reaches(self, value: Decimal, *, now: datetime) -> datetime:
        """When the meter is expected to reach `value` (when it did, if it already has)."""
        if self.last_value >= value:
            return self.last_at
        if not self.rate_per_day:
            return now
        return max(
            now, self.last_at + timedelta(days=float((value - self.last_value) / self.rate_per_day))
        )


def _days(delta: timedelta) -> Decimal:
    return Decimal(delta.total_seconds()) / Decimal(86400)


def meter_statistics(meter_ids) -> dict[int, MeterStatistics]:
    """Latest lifetime reading and rate over the last `RATE_WINDOW` of each meter: two queries."""
    newest = MeterReading.objects.filter(meter=OuterRef("pk")).order_by("-observed_at", "-id")
    rows = (
        Meter.objects.filter(pk__in=list(meter_ids))
        .annotate(
            last_value=Subquery(newest.values("value")[:1]),
            last_at=Subquery(newest.values("observed_at")[:1]),
        )
        .annotate(
            first_value=Subquery(
                MeterReading.objects.filter(
                    meter=OuterRef("pk"), observed_at__gte=OuterRef("last_at") - RATE_WINDOW
                )
                .order_by("observed_at", "id")
                .values("value")[:1]
            ),
            first_at=Subquery(
                MeterReading.objects.filter(
                    meter=OuterRef("pk"), observed_at__gte=OuterRef("last_at") - RATE_WINDOW
                )
                .order_by("observed_at", "id")
                .values("observed_at")[:1]
            ),
        )
        .filter(last_at__isnull=False)
        .values_list("pk", "last_value", "last_at", "first_value", "first_at")
    )
    rows = list(rows)
    resets: dict[int, list[MeterReset]] = {}
    for reset in MeterReset.objects.filter(meter_id__in=[r[0] for r in rows]).order_by(
        "meter_id", "reset_at"
    ):
        resets.setdefault(reset.meter_id, []).append(reset)
    stats = {}
    for pk, last_value, last_at, first_value, first_at in rows:
        meter_resets = resets.get(pk, [])
        last = last_value + _offset(meter_resets, last_at)
        rate = None
        if first_at is not None and last_at - first_at >= MIN_RATE_SPAN:
            first = first_value + _offset(meter_resets, first_at)
            rate = max(Decimal("0"), (last - first) / _days(last_at - first_at))
        stats[pk] = MeterStatistics(last_value=last, last_at=last_at, rate_per_day=rate)
    return stats


def _offset(resets: list[MeterReset], at: datetime) -> Decimal:
    """Lifetime offset of a reading observed at `at` (resets sorted by time)."""
    index = bisect.bisect_right([r.reset_at for r in resets], at)
    return resets[index - 1].offset if index else Decimal("0")


# --------------------------------------------------------------------------- gateway readings


def meter_readings_ingest(*, gateway, readings, now: datetime | None = None) -> dict:
    """Store a gateway's readings once per (gateway, reading_id), in one transaction.

    Per item: accepted, duplicate (same reading_id and content), conflict (same reading_id,
    other content), refused (with the reason, e.g. backwards on a cumulative meter) or
    unmatched (no such asset tag and meter code at the gateway's site).
    """
    now = now or timezone.now()
    counts = {status: 0 for status in ReadingResult.values}
    results = []
    measurements = []
    with transaction.atomic():
        meters = _meters_for(gateway, readings)
        existing = {
            row.reading_id: row
            for row in GatewayReading.objects.filter(
                gateway=gateway, reading_id__in={r.reading_id for r in readings}
            ).select_related("meter_reading")
        }
        for index, reading in enumerate(readings):
            status, reason, pk = _ingest_one(gateway, reading, meters, existing, now=now)
            counts[status] += 1
            item = {"index": index, "reading_id": reading.reading_id, "status": status}
            if pk is not None:
                item["id"] = pk
            if reason:
                item["reason"] = reason
            results.append(item)
            if status == ReadingResult.ACCEPTED:
                meter = meters[(reading.asset_tag, reading.meter_code)]
                measurements.append(_measurement(meter, reading.value, reading.observed_at))
        # The accepted readings' values, in one statement for the batch.
        measurements_record(measurements=measurements)
    return {
        "accepted": counts[ReadingResult.ACCEPTED],
        "duplicates": counts[ReadingResult.DUPLICATE],
        "conflicts": counts[ReadingResult.CONFLICT],
        "refused": counts[ReadingResult.REFUSED],
        "unmatched": counts[ReadingResult.UNMATCHED],
        "results": results,
    }


def _measurement(meter: Meter, value, at: datetime, *, source=MeasurementSource.READING):
    """A meter's value as a measurement of its asset, named by the meter's code."""
    return MeasurementIn(
        asset_id=meter.asset_id,
        name=meter.code,
        unit=meter.unit,
        value=float(value),
        at=at,
        source=source,
    )


def _meters_for(gateway, readings) -> dict[tuple[str, str], Meter]:
    """The site's meters the readings name, locked (in id order) for the checks."""
    wanted = {(r.asset_tag, r.meter_code) for r in readings}
    ids = [
        pk
        for pk, tag, code in Meter.objects.filter(
            asset__site_id=gateway.site_id,
            asset__tag__in={tag for tag, _ in wanted},
            code__in={code for _, code in wanted},
        ).values_list("pk", "asset__tag", "code")
        if (tag, code) in wanted
    ]
    locked = (
        Meter.objects.select_for_update(of=("self",)).select_related("asset").filter(pk__in=ids)
    )
    return {(m.asset.tag, m.code): m for m in locked.order_by("pk")}


def _same(stored: MeterReading, meter: Meter | None, reading) -> bool:
    return (
        meter is not None
        and stored.meter_id == meter.pk
        and stored.value == reading.value
        and stored.observed_at == reading.observed_at
    )


def _ingest_one(gateway, reading, meters, existing, *, now):
    meter = meters.get((reading.asset_tag, reading.meter_code))
    known = existing.get(reading.reading_id)
    if known is not None:
        if _same(known.meter_reading, meter, reading):
            return ReadingResult.DUPLICATE, "", known.meter_reading_id
        return ReadingResult.CONFLICT, "This reading_id was sent before with other content.", None
    if meter is None:
        return (
            ReadingResult.UNMATCHED,
            f"No meter {reading.meter_code!r} on an asset tagged {reading.asset_tag!r} at this "
            "gateway's site.",
            None,
        )
    try:
        check_reading(meter, reading.value, reading.observed_at, now=now)
    except ReadingRefused as refused:
        return ReadingResult.REFUSED, refused.reason, None
    try:
        with transaction.atomic():
            stored = MeterReading.objects.create(
                meter=meter, value=reading.value, observed_at=reading.observed_at
            )
            existing[reading.reading_id] = GatewayReading.objects.create(
                gateway=gateway,
                reading_id=reading.reading_id,
                meter_reading=stored,
                received_at=now,
            )
    except IntegrityError:
        # Another delivery of this reading_id (to another meter) committed first.
        winner = GatewayReading.objects.select_related("meter_reading").get(
            gateway=gateway, reading_id=reading.reading_id
        )
        if _same(winner.meter_reading, meter, reading):
            return ReadingResult.DUPLICATE, "", winner.meter_reading_id
        return ReadingResult.CONFLICT, "This reading_id was sent before with other content.", None
    return ReadingResult.ACCEPTED, "", stored.pk
