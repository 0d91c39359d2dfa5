"""Storing a gateway's heartbeat: its own health, its sensors', and their battery trend.

One transaction and a constant number of statements whatever the number of sensors (10,000
gateways beating every minute is the load this is measured for). The gateway's row is updated
first, which locks it: two heartbeats of one gateway are stored one after the other, so the
sensors they register never collide and the cap on sensors per gateway is counted right.
Only a writer that does not take that lock (a planner adding a sensor by hand at that very
moment) can still collide; the heartbeat is then refused as HeartbeatRaced, answered 503 with
Retry-After, and the gateway's next heartbeat updates the sensor.
"""

import dataclasses
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
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


class HeartbeatRaced(Exception):
    """Another writer changed what the heartbeat relies on meanwhile (registered one of its new
    sensors, or deleted the gateway); nothing of the heartbeat was stored. A retry (or the next
    heartbeat) finds the sensor known, or the gateway refused."""


def heartbeat_ingest(*, gateway: Gateway, heartbeat: Heartbeat, now: datetime) -> dict:
    """Store `heartbeat` of the (authenticated) `gateway` as heard at `now`; returns the 202
    answer: the gateway, its recorded connectivity after this heartbeat, and how many sensors
    were updated, registered and ignored (over the cap). Raises HeartbeatRaced."""
    try:
        with transaction.atomic():
            return _store(gateway, heartbeat, now)
    except IntegrityError as exc:  # the unique (gateway, code) of a sensor
        raise HeartbeatRaced(f"sensor registered meanwhile for gateway {gateway.pk}") from exc


def _store(gateway: Gateway, heartbeat: Heartbeat, now: datetime) -> dict:
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
    if not Gateway.objects.filter(pk=gateway.pk).update(**values):
        raise HeartbeatRaced(f"gateway {gateway.pk} deleted meanwhile")
    for name, value in values.items():
        setattr(gateway, name, value)


@dataclasses.dataclass(slots=True)
class _Known:
    """A known sensor's reported fields, as stored, then as this heartbeat leaves them."""

    id: int
    code: str
    last_sample_at: datetime | None
    battery_percent: int | None
    signal_dbm: int | None


def _sensors_update(
    gateway: Gateway, reports: list[SensorReport], now: datetime
) -> tuple[list[_Known], list[Sensor], int]:
    """(updated, registered, how many unknown were ignored): the known sensors get the
    reports (what a report left out stays; inactive ones stay inactive), unknown ids are
    registered without an asset (a planner links them) up to MAX_SENSORS_PER_GATEWAY.

    Every sensor of the gateway is read (at most about MAX_SENSORS_PER_GATEWAY, as tuples):
    one indexed query that also counts them for the cap, cheaper than a 500-code IN list."""
    if not reports:
        return [], [], 0
    stored = _gateway_sensors(gateway)
    known, unknown = [], []
    for report in reports:
        sensor = stored.get(report.id)
        if sensor is None:
            unknown.append(report)
        else:
            known.append(_apply(sensor, report, now))
    if known:
        _sensors_save(known, now)
    room = max(0, MAX_SENSORS_PER_GATEWAY - len(stored))
    new = [
        _apply(Sensor(gateway=gateway, code=report.id), report, now) for report in unknown[:room]
    ]
    if new:
        Sensor.objects.bulk_create(new)
    return known, new, len(unknown) - len(new)


def _gateway_sensors(gateway: Gateway) -> dict[str, _Known]:
    rows = Sensor.objects.filter(gateway=gateway).values_list("id", "code", *_SENSOR_FIELDS)
    return {row[1]: _Known(*row) for row in rows.order_by()}


def _sensors_save(sensors: list[_Known], now: datetime) -> None:
    """Write the reported fields of `sensors` in one UPDATE ... FROM (VALUES ...), on
    PostgreSQL and SQLite alike (the VALUES columns are column1, column2, ... on both;
    PostgreSQL needs their types spelled out, and adapts the values itself). Django's
    bulk_update builds a CASE per field and row, which costs milliseconds per sensor in
    Python alone."""
    fields = [Sensor._meta.pk, *(Sensor._meta.get_field(name) for name in _SENSOR_FIELDS)]
    qn = connection.ops.quote_name
    reported = Sensor._meta.get_field("last_reported_at")
    params = [reported.get_db_prep_save(now, connection)]
    if connection.vendor == "postgresql":
        types = [fields[0].rel_db_type(connection), *(f.db_type(connection) for f in fields[1:])]
        columns = [f"CAST(v.column{i} AS {kind})" for i, kind in enumerate(types, 1)]
        params += [getattr(sensor, f.attname) for sensor in sensors for f in fields]
    else:
        columns = [f"v.column{i}" for i in range(1, len(fields) + 1)]
        params += [
            f.get_db_prep_save(getattr(sensor, f.attname), connection)
            for sensor in sensors
            for f in fields
        ]
    placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    assignments = ", ".join(
        f"{qn(field.column)} = {column}"
        for field, column in zip(fields[1:], columns[1:], strict=True)
    )
    # Only quoted identifiers, column types and placeholders are formatted in; values are
    # parameters.
    sql = (
        f"UPDATE {qn(Sensor._meta.db_table)} SET {qn(reported.column)} = %s, {assignments} "  # noqa: S608
        f"FROM (VALUES {', '.join([placeholder] * len(sensors))}) AS v "
        f"WHERE {qn(Sensor._meta.db_table)}.{qn(fields[0].column)} = {columns[0]}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _apply(sensor, report: SensorReport, now: datetime):
    """`sensor` (a _Known or a new Sensor) with what `report` says, reported at `now`."""
    if isinstance(sensor, Sensor):
        sensor.last_reported_at = now
    for name in _SENSOR_FIELDS:
        value = getattr(report, name)
        if value is not UNSET:
            setattr(sensor, name, value)
    return sensor


def _battery_sample(gateway: Gateway, heartbeat: Heartbeat, sensors: list, now: datetime) -> None:
    """A battery sample for each device that reported a level and has none in the last
    FLEET_BATTERY_SAMPLE_EVERY_SECONDS: enough points for the trend, not one a minute."""
    reported = {
        report.id: report.battery_percent
        for report in heartbeat.sensors
        if report.battery_percent is not UNSET and report.battery_percent is not None
    }
    levels = {sensor.id: reported[sensor.code] for sensor in sensors if sensor.code in reported}
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
        .order_by()  # not the model's ordering, which DISTINCT would join and sort by
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
