"""The fleet checks' test world: a clock the tests move (2026-03-10 09:00 UTC, 10:00 at the
plant, Europe/Berlin, is T0) and gateways and sensors last heard then."""

from datetime import UTC, datetime, timedelta

from fleet.connectivity import check_connectivity
from gateways.choices import Connectivity, SensorState
from gateways.models import Gateway, Sensor

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
INTERVAL, GRACE, STALE_AFTER = 300, 600, 3600
OFFLINE_AT = T0 + (INTERVAL + GRACE + 1) * SECOND


class Clock:
    """The test's clock (time-machine, not ticking): `at(instant)` moves it, `check(instant)`
    moves it and runs the connectivity check then."""

    def __init__(self, traveller):
        self.traveller = traveller
        self.now = T0

    def at(self, instant):
        self.traveller.move_to(instant)
        self.now = instant
        return instant

    def check(self, instant=None):
        return check_connectivity(now=self.at(instant or self.now))


def make_gateway(site, name="GW-N1", *, last_seen_at=T0, **fields):
    return Gateway.objects.create(
        site=site,
        name=name,
        heartbeat_interval_seconds=INTERVAL,
        heartbeat_grace_seconds=GRACE,
        last_seen_at=last_seen_at,
        connectivity=Connectivity.ONLINE if last_seen_at else Connectivity.NEVER_SEEN,
        connectivity_since=last_seen_at,
        **fields,
    )


def make_sensor(gateway, code="vib-1", *, asset=None, last_sample_at=T0, **fields):
    return Sensor.objects.create(
        gateway=gateway,
        code=code,
        asset=asset,
        stale_after_seconds=STALE_AFTER,
        last_sample_at=last_sample_at,
        state=SensorState.LIVE if last_sample_at else SensorState.NEVER_SEEN,
        state_since=last_sample_at,
        **fields,
    )


def heard(device, at):
    """A sign of life at `at` (a heartbeat, alert or reading stored it)."""
    if isinstance(device, Gateway):
        Gateway.objects.filter(pk=device.pk).update(last_seen_at=at, last_heartbeat_at=at)
    else:
        Sensor.objects.filter(pk=device.pk).update(last_sample_at=at, last_reported_at=at)
    device.refresh_from_db()
