"""Storing a gateway's heartbeat: its own health, its sensors', and their battery trend.

One transaction and a constant number of statements whatever the number of sensors (10,000
gateways beating every minute is the load this is measured for). The gateway's row is updated
first, which locks it: two heartbeats of one gateway are stored one after the other, so the
sensors they register never collide and the cap on sensors per gateway is counted right.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from fleet.connectivity import gateway_heard
from fleet.schema import UNSET, Heartbeat, SensorReport
from gateways.choices import Connectivity
from gateways.models import BatterySample, Gateway, Sensor

# A signed but buggy gateway inventing a new sensor id in every heartbeat must not grow the
# table without bound: beyond this many sensors, unknown ids are ignored (and counted).
MAX_SENSORS_PER_GATEWAY = 1000

_GATEWAY_FIELDS = ("firmware", "uptime_seconds", "signal_dbm", "battery_percent")
_SENSOR_FIELDS = ("last_sample_at", "battery_percent", "signal_dbm")


@transaction.atomic
def heartbeat_ingest(*, gateway: Gateway, heartbeat: Heartbeat, now: datetime) -> dict:
    """Store `heartbeat` of the (authenticated) `gateway` as heard at `now`; returns the 202
    answer: the gateway, its recorded connectivity after this heartbeat, and how many sensors
    were updated, registered and ignored (over the cap)."""
    _gateway_update(gateway, heartbeat, now)
    updated, registered, ignored = _sensors_update(gateway, heartbeat.sensors, now)
    _battery_sample(gateway, heartbeat, [*updated, *registered], now)
    connectivity = _connectivity(gateway)
    if connectivity != Connectivity.ONLINE:
        gateway_heard(gateway=gateway, now=now)
        connectivity = _connectivity(gateway)
    return {
        "gateway": str(gateway.pk),
        "connectivity": connectivity,
        "sensors": {"updated": len(updated), "registered": len(registered), "ignored": ignored},
    }


def _gateway_update(gateway: Gateway, heartbeat: Heartbeat, now: datetime) -> None:
    """The gateway's health fields from the heartbeat (what it left out stays), heard at `now`.

    The instance gets them too: the webhook boundary then sees `last_seen_at` is fresh and
    does not overwrite it with its minute-resolution touch.
    """
    values = {"last_seen_at": now, "last_heartbeat_at": now}
    for name in _GATEWAY_FIELDS:
        value = getattr(heartbeat, name)
        if value is not UNSET:
            values[name] = value
    Gateway.objects.filter(pk=gateway.pk).update(**values)
    for name, value in values.items():
        setattr(gateway, name, value)


def _sensors_update(
    gateway: Gateway, reports: list[SensorReport], now: datetime
) -> tuple[list[Sensor], list[Sensor], int]:
    """(updated, registered, how many unknown were ignored): the known sensors get the
    reports (what a report left out stays; inactive ones stay inactive), unknown ids are
    registered without an asset (a planner links them) up to MAX_SENSORS_PER_GATEWAY."""
    if not reports:
        return [], [], 0
    by_code = {report.id: report for report in reports}
    known = list(
        Sensor.objects.filter(gateway=gateway, code__in=by_code).only("id", "code", *_SENSOR_FIELDS)
    )
    for sensor in known:
        _apply(sensor, by_code.pop(sensor.code), now)
    if known:
        Sensor.objects.bulk_update(known, ["last_reported_at", *_SENSOR_FIELDS])
    unknown = list(by_code.values())  # in the order of the body
    room = 0
    if unknown:
        room = max(0, MAX_SENSORS_PER_GATEWAY - Sensor.objects.filter(gateway=gateway).count())
    new = [
        _apply(Sensor(gateway=gateway, code=report.id), report, now) for report in unknown[:room]
    ]
    if new:
        Sensor.objects.bulk_create(new)
    return known, new, len(unknown) - len(new)


def _apply(sensor: Sensor, report: SensorReport, now: datetime) -> Sensor:
    sensor.last_reported_at = now
    for name in _SENSOR_FIELDS:
        value = getattr(report, name)
        if value is not UNSET:
            setattr(sensor, name, value)
    return sensor


def _battery_sample(
    gateway: Gateway, heartbeat: Heartbeat, sensors: list[Sensor], now: datetime
) -> None:
    """A battery sample for each device that reported a level and has none in the last
    FLEET_BATTERY_SAMPLE_EVERY_SECONDS: enough points for the trend, not one a minute."""
    reported = {
        report.id: report.battery_percent
        for report in heartbeat.sensors
        if report.battery_percent is not UNSET and report.battery_percent is not None
    }
    levels = {sensor.pk: reported[sensor.code] for sensor in sensors if sensor.code in reported}
    if heartbeat.battery_percent is not UNSET and heartbeat.battery_percent is not None:
        levels[None] = heartbeat.battery_percent  # the gateway's own
    if not levels:
        return
    since = now - timedelta(seconds=settings.FLEET_BATTERY_SAMPLE_EVERY_SECONDS)
    devices = Q(sensor_id__in=[pk for pk in levels if pk is not None])
    if None in levels:
        devices |= Q(sensor__isnull=True)
    recent = set(
        BatterySample.objects.filter(devices, gateway=gateway, at__gt=since)
        .values_list("sensor_id", flat=True)
        .distinct()
    )
    due = [
        BatterySample(gateway=gateway, sensor_id=pk, at=now, percent=percent)
        for pk, percent in levels.items()
        if pk not in recent
    ]
    if due:
        BatterySample.objects.bulk_create(due)


def _connectivity(gateway: Gateway) -> str:
    """The gateway's recorded connectivity, read again (the instance may predate a change)."""
    gateway.connectivity = (
        Gateway.objects.filter(pk=gateway.pk).values_list("connectivity", flat=True).get()
    )
    return gateway.connectivity
