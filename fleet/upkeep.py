"""Upkeep of the fleet (beat, hourly): batteries running low and firmware behind its target
become work, at most one open per device and issue (`fleet.work`).

A battery is **low** when its last reported level is at most FLEET_BATTERY_LOW_PERCENT, or when
the trend of its samples (least squares over the last 30 days, at least 3 samples spanning a
day or more, falling) reaches 0 % within FLEET_BATTERY_LEAD_DAYS. The work is due 2 days before
the projected empty date (never in the past). Samples taken before the device's last completed
battery work are left out of the trend: they describe the old battery. Samples older than
FLEET_BATTERY_KEEP_DAYS are deleted.

Firmware is **outdated** when the gateway's hardware model has a `FirmwareTarget` and the
version it reports is older (PEP 440 ordering, `packaging.version`). A version that does not
parse is not compared; it is logged. Open firmware work whose gateway has since reached its
target (updated over the air, or the target was lowered) is settled like recovered silence
work: noted on its timeline and, unstarted, cancelled (`fleet.work.fleet_work_recover`).
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import (
    Count,
    F,
    FloatField,
    Func,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast
from packaging.version import InvalidVersion, Version

from fleet import work
from gateways.models import BatterySample, FirmwareTarget, Gateway, Sensor
from workorders.choices import OPEN_STATUSES, DeviceIssue, EventKind, Priority
from workorders.models import WorkOrder

log = logging.getLogger(__name__)

TREND_DAYS = 30
MIN_TREND_SAMPLES = 3
MIN_TREND_SPAN_DAYS = 1.0
DUE_BEFORE_EMPTY = timedelta(days=2)
FIRMWARE_PRIORITY = Priority.LOW
FIRMWARE_DUE = timedelta(days=30)


@dataclass
class UpkeepResult:
    opened: list = field(default_factory=list)
    settled: list = field(default_factory=list)
    samples_deleted: int = 0
    unparsable_versions: list = field(default_factory=list)


class EpochSeconds(Func):
    """Seconds since 1970 of a datetime column, as a float."""

    output_field = FloatField()
    template = "EXTRACT(EPOCH FROM %(expressions)s)"

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s) - 2440587.5) * 86400.0)",
            **extra_context,
        )


def check_upkeep(*, now: datetime) -> UpkeepResult:
    """Open battery and firmware work that is due at `now`; forget old battery samples."""
    result = UpkeepResult()
    skill = work.FleetSkill()
    result.samples_deleted, _ = BatterySample.objects.filter(
        at__lt=now - timedelta(days=settings.FLEET_BATTERY_KEEP_DAYS)
    ).delete()
    # Each work order is opened in its own transaction (fleet.work.fleet_work_open): two checks
    # at once then never hold one new work order each while waiting for the other's.
    result.opened += _open_battery_work(now=now, skill=skill)
    result.opened += _open_firmware_work(now=now, skill=skill, result=result)
    result.settled += _settle_firmware_work()
    return result


# ---------------------------------------------------------------- batteries


def projected_empty(samples, *, now: datetime) -> datetime | None:
    """When a battery reaches 0 % on the least-squares line through `samples` ((at, percent)
    pairs), or None without a falling trend (fewer than 3 samples, a span under a day, flat or
    rising). Pure: the check computes the same sums in the database."""
    since = now - timedelta(days=TREND_DAYS)
    points = [((at - since).total_seconds() / 86400, float(p)) for at, p in samples]
    n = len(points)
    if n < MIN_TREND_SAMPLES:
        return None
    sums = {
        "n": n,
        "st": sum(t for t, _ in points),
        "sp": sum(p for _, p in points),
        "stt": sum(t * t for t, _ in points),
        "stp": sum(t * p for t, p in points),
        "t0": min(t for t, _ in points),
        "t1": max(t for t, _ in points),
    }
    return _empty_at(sums, since)


def _empty_at(s: dict, since: datetime) -> datetime | None:
    n = s["n"]
    if n < MIN_TREND_SAMPLES or s["t1"] - s["t0"] < MIN_TREND_SPAN_DAYS:
        return None
    denominator = n * s["stt"] - s["st"] ** 2
    if denominator <= 0:
        return None
    slope = (n * s["stp"] - s["st"] * s["sp"]) / denominator  # percent per day
    if slope >= 0:
        return None
    intercept = (s["sp"] - slope * s["st"]) / n
    return since + timedelta(days=-intercept / slope)


def _replaced_at(*, since: datetime) -> dict:
    """When each device's battery work was last completed within the trend's window (the
    battery was replaced then), by Device."""
    replaced = {}
    for gateway_id, sensor_id, completed_at in WorkOrder.objects.filter(
        device_issue=DeviceIssue.BATTERY_LOW, completed_at__gte=since
    ).values_list("gateway_id", "sensor_id", "completed_at"):
        device = work.Device(gateway_id, sensor_id)
        replaced[device] = max(completed_at, replaced.get(device, completed_at))
    return replaced


def _trends(*, now: datetime, replaced: dict) -> dict:
    """The projected empty date of every device with a falling trend, by Device: the sums of
    the least squares computed by the database in one grouped query."""
    since = now - timedelta(days=TREND_DAYS)
    t = (EpochSeconds(F("at")) - Value(since.timestamp())) / Value(86400.0)
    p = Cast(F("percent"), FloatField())
    samples = BatterySample.objects.filter(at__gte=since, at__lte=now, gateway__is_active=True)
    samples = samples.filter(Q(sensor__isnull=True) | Q(sensor__is_active=True))
    for device, at in replaced.items():
        samples = samples.exclude(Q(at__lt=at, **device.lookup()))
    rows = (
        samples.order_by()
        .annotate(t=t, p=p)
        .values("gateway_id", "sensor_id")
        .annotate(
            n=Count("id"),
            st=Sum("t"),
            sp=Sum("p"),
            stt=Sum(F("t") * F("t")),
            stp=Sum(F("t") * F("p")),
            t0=Min("t"),
            t1=Max("t"),
        )
        .filter(n__gte=MIN_TREND_SAMPLES)
    )
    trends = {}
    for row in rows:
        sums = {k: float(row[k]) for k in ("st", "sp", "stt", "stp", "t0", "t1")}
        empty_at = _empty_at({"n": row["n"], **sums}, since)
        if empty_at is not None:
            trends[work.Device(row["gateway_id"], row["sensor_id"])] = empty_at
    return trends


def _open_battery_work(*, now: datetime, skill) -> list:
    """Battery work for every gateway and sensor whose battery is low (see the module)."""
    low = settings.FLEET_BATTERY_LOW_PERCENT
    horizon = now + timedelta(days=settings.FLEET_BATTERY_LEAD_DAYS)
    replaced = _replaced_at(since=now - timedelta(days=TREND_DAYS))
    trends = _trends(now=now, replaced=replaced)
    soon = {device for device, empty_at in trends.items() if empty_at <= horizon}
    gateway_ids = {d.gateway_id for d in soon if d.sensor_id is None}
    sensor_ids = {d.sensor_id for d in soon if d.sensor_id is not None}
    gateways = list(
        Gateway.objects.filter(is_active=True)
        .filter(Q(battery_percent__lte=low) | Q(pk__in=gateway_ids))
        .select_related("site", "asset")
    )
    sensors = list(
        Sensor.objects.filter(is_active=True, gateway__is_active=True)
        .filter(Q(battery_percent__lte=low) | Q(pk__in=sensor_ids))
        .select_related("gateway__site", "gateway__asset", "asset")
    )
    if not gateways and not sensors:
        return []
    existing = work.open_work_by_device(
        DeviceIssue.BATTERY_LOW,
        gateway_ids=[g.pk for g in gateways],
        sensor_ids=[s.pk for s in sensors],
    )
    watched = _watched_criticalities([g.pk for g in gateways])
    candidates = [
        (work.Device(g.pk), g, g.site, g.asset, f"gateway {work.gateway_label(g)}", g)
        for g in gateways
    ] + [
        (
            work.Device(s.gateway_id, s.pk),
            s,
            s.gateway.site,
            s.asset,
            f"sensor {s.name or s.code} on "
            + (s.asset.tag if s.asset_id else work.gateway_label(s.gateway)),
            s.gateway,
        )
        for s in sensors
    ]
    opened = []
    for device, unit, site, asset, label, gateway in candidates:
        if device in existing or _not_reported_since(unit, replaced.get(device)):
            continue
        criticalities = (
            watched.get(gateway.pk, [])
            if device.sensor_id is None
            else [asset and asset.criticality]
        )
        priority = work.priority_for(criticalities)
        empty_at = trends.get(device)
        if empty_at is not None:
            due_at = max(empty_at - DUE_BEFORE_EMPTY, now)
            when = f"empty around {empty_at.astimezone(ZoneInfo(site.timezone)):%Y-%m-%d}"
        else:
            due_at = now + work.response_time(priority)
            when = f"at {unit.battery_percent} %"
        level = f"{unit.battery_percent} %" if unit.battery_percent is not None else "unknown"
        work_order, created = work.fleet_work_open(
            device=device,
            issue=DeviceIssue.BATTERY_LOW,
            site=site,
            asset=asset if device.sensor_id is not None else gateway.asset,
            title=f"Replace battery: {label} ({when})",
            description=(
                f"The battery of {label} is low: last reported level {level}"
                + (
                    f"; its trend over the last {TREND_DAYS} days runs it empty around "
                    f"{work.local_time(empty_at, site)}."
                    if empty_at is not None
                    else f" (low at {low} % or less)."
                )
            ),
            priority=priority,
            due_at=due_at,
            now=now,
            event=f"Opened by the fleet upkeep check: battery of {label} low ({when}).",
            skill=skill,
        )
        if created:
            opened.append(work_order)
    return opened


def _not_reported_since(unit, replaced_at: datetime | None) -> bool:
    """Whether battery work on the device was completed after its last report: the level it
    shows is the old battery's, so no new work until it reports again."""
    if replaced_at is None:
        return False
    reported = getattr(unit, "last_heartbeat_at", None) or getattr(unit, "last_reported_at", None)
    return reported is None or reported <= replaced_at


def _watched_criticalities(gateway_ids: list) -> dict:
    """The criticalities of the assets each gateway's active sensors watch (one query)."""
    watched = {}
    for gateway_id, criticality in Sensor.objects.filter(
        gateway_id__in=gateway_ids, is_active=True, asset__isnull=False
    ).values_list("gateway_id", "asset__criticality"):
        watched.setdefault(gateway_id, []).append(criticality)
    return watched


# ---------------------------------------------------------------- firmware


def parse_version(value: str) -> Version | None:
    """A firmware version as PEP 440 orders it ("v2.1.0" is 2.1.0), or None if it does not
    parse."""
    try:
        return Version(value.strip())
    except InvalidVersion:
        return None


def _open_firmware_work(*, now: datetime, skill, result: UpkeepResult) -> list:
    """Firmware work for every active gateway older than its model's target (one query)."""
    target = FirmwareTarget.objects.filter(model=OuterRef("model")).values("version")[:1]
    gateways = list(
        Gateway.objects.filter(is_active=True)
        .exclude(model="")
        .exclude(firmware="")
        .annotate(target=Subquery(target))
        .filter(target__isnull=False)
        .exclude(firmware=F("target"))
        .select_related("site", "asset")
    )
    existing = work.open_work_by_device(
        DeviceIssue.FIRMWARE_OUTDATED, gateway_ids=[g.pk for g in gateways]
    )
    opened = []
    for gateway in gateways:
        current, wanted = parse_version(gateway.firmware), parse_version(gateway.target)
        if current is None or wanted is None:
            log.warning(
                "firmware of gateway %s not compared: %r or target %r is not a version",
                gateway.pk,
                gateway.firmware,
                gateway.target,
            )
            result.unparsable_versions.append(gateway.pk)
            continue
        if current >= wanted or work.Device(gateway.pk) in existing:
            continue
        label = work.gateway_label(gateway)
        work_order, created = work.fleet_work_open(
            device=work.Device(gateway.pk),
            issue=DeviceIssue.FIRMWARE_OUTDATED,
            site=gateway.site,
            asset=gateway.asset,
            title=f"Update firmware of {label}: {gateway.firmware} -> {gateway.target}",
            description=(
                f"Gateway {label} ({gateway.model}) runs firmware {gateway.firmware}; the target "
                f"for its model is {gateway.target}."
            ),
            priority=FIRMWARE_PRIORITY,
            due_at=now + FIRMWARE_DUE,
            now=now,
            event=f"Opened by the fleet upkeep check: firmware {gateway.firmware} is older "
            f"than the target {gateway.target}.",
            skill=skill,
        )
        if created:
            opened.append(work_order)
    return opened


def _settle_firmware_work() -> list:
    """Open firmware work whose gateway now runs at least its model's target: noted, and
    cancelled when unstarted (one query to find it; each settled in its own transaction)."""
    target = FirmwareTarget.objects.filter(model=OuterRef("gateway__model")).values("version")[:1]
    candidates = list(
        WorkOrder.objects.filter(
            device_issue=DeviceIssue.FIRMWARE_OUTDATED,
            sensor__isnull=True,
            status__in=OPEN_STATUSES,
        )
        .annotate(target=Subquery(target))
        .filter(target__isnull=False)
        .select_related("gateway")
    )
    settled = []
    for candidate in candidates:
        current = parse_version(candidate.gateway.firmware)
        wanted = parse_version(candidate.target)
        if current is None or wanted is None or current < wanted:
            continue
        with transaction.atomic():
            work_order = WorkOrder.objects.select_for_update().get(pk=candidate.pk)
            firmware = candidate.gateway.firmware
            said = work_order.events.filter(kind=EventKind.CONNECTIVITY, data__firmware=firmware)
            if work_order.status not in OPEN_STATUSES or said.exists():
                continue  # settled meanwhile, or started work told so already
            work.fleet_work_recover(
                work_order=work_order,
                note=f"The gateway now runs firmware {firmware} (target {candidate.target}).",
                reason=f"Resolved: the gateway runs firmware {firmware}, its target.",
                firmware=firmware,
            )
        settled.append(work_order)
    return settled
