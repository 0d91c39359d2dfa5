"""Signs of life and deaths a gateway states itself (Sparkplug B births, data and deaths).

A heartbeat says "alive" once a minute and the check infers silence; a Sparkplug edge node says
"born", "data" and "dead" as they happen. These services record what it says through the same
transitions, events and work as the check (`fleet.connectivity`): a death opens the gateway's
silence work at once, a birth recovers it, and a device's death makes its sensor stale (its
stale work then opens with the next check, as for any stale sensor). A death is recorded after
the last sign of life, which the health definition keeps (`gateways.health`,
`fleet.connectivity.sensor_states`) until the device is heard again.

A birth opens a session (`session_open` on the gateway or sensor) and its death ends it: while
it is open the device is online (live) however long it is silent, since Sparkplug nodes report
by exception and the broker publishes the death of a node whose connection is lost.
"""

from datetime import datetime

from django.db import transaction
from django.db.models import Q

from fleet.connectivity import (
    gateway_heard,
    gateway_transition,
    sensors_recover,
    silence_work_open,
)
from gateways.choices import Connectivity, SensorState
from gateways.models import ConnectivityEvent, Gateway, Sensor


def gateway_alive(*, gateway: Gateway, now: datetime) -> None:
    """The gateway spoke at `now` (a birth, data): its last sign of life to the second (never
    moved back), and its recovery recorded at once if it was not online."""
    Gateway.objects.filter(pk=gateway.pk).filter(
        Q(last_seen_at__isnull=True) | Q(last_seen_at__lt=now)
    ).update(last_seen_at=now)
    gateway.last_seen_at = max(filter(None, [gateway.last_seen_at, now]))
    gateway_heard(gateway=gateway, now=now)


def gateway_born(*, gateway: Gateway, now: datetime) -> None:
    """The gateway opened a session at `now` (an NBIRTH): online until it ends it. Its devices'
    sessions end with the old one (a new birth requires their births again)."""
    Gateway.objects.filter(pk=gateway.pk).update(session_open=True)
    Sensor.objects.filter(gateway_id=gateway.pk, session_open=True).update(session_open=False)
    gateway.session_open = True
    gateway_alive(gateway=gateway, now=now)


def gateway_session_end(*, gateway: Gateway) -> None:
    """The gateway's session and its devices' ended: judged by silence again."""
    Gateway.objects.filter(pk=gateway.pk, session_open=True).update(session_open=False)
    Sensor.objects.filter(gateway_id=gateway.pk, session_open=True).update(session_open=False)
    gateway.session_open = False


def gateway_died(*, gateway: Gateway, now: datetime) -> bool:
    """The gateway said it went offline at `now`: record it offline (event) and open its
    silence work, unless it is already recorded offline. Its session and its devices' end.
    Returns whether it was recorded."""
    with transaction.atomic():
        gateway_session_end(gateway=gateway)
        if gateway_transition(gateway=gateway, to=Connectivity.OFFLINE, now=now) is None:
            return False
        silence_work_open([gateway.pk], now=now, died=True)
    return True


def sensor_born(*, sensor: Sensor, now: datetime, sampled_at: datetime) -> None:
    """The sensor's gateway declared it born at `now` (a DBIRTH): live until its death."""
    Sensor.objects.filter(pk=sensor.pk).update(session_open=True)
    sensor.session_open = True
    sensor_alive(sensor=sensor, now=now, sampled_at=sampled_at)


def sensor_alive(*, sensor: Sensor, now: datetime, sampled_at: datetime) -> None:
    """The sensor was born or sent data sampled at `sampled_at`: its last sample (never moved
    back, nor past `now`: a node's clock may run ahead) and report, and its recovery recorded
    at once (event; stale work noted and, when unstarted, cancelled) if it was not live."""
    sampled_at = min(sampled_at, now)
    with transaction.atomic():
        row = (
            Sensor.objects.select_for_update(no_key=True)
            .filter(pk=sensor.pk)
            .values("state", "last_sample_at")
            .first()
        )
        if row is None:
            return
        last_sample = max(filter(None, [row["last_sample_at"], sampled_at]))
        values = {"last_sample_at": last_sample, "last_reported_at": now}
        if row["state"] != SensorState.LIVE:
            values |= {"state": SensorState.LIVE, "state_since": now}
        Sensor.objects.filter(pk=sensor.pk).update(**values)
        for name, value in values.items():
            setattr(sensor, name, value)
        if row["state"] == SensorState.LIVE:
            return
        ConnectivityEvent.objects.create(
            gateway_id=sensor.gateway_id,
            sensor_id=sensor.pk,
            from_state=row["state"],
            to_state=SensorState.LIVE,
            at=now,
            silent_since=row["last_sample_at"],
        )
        if row["state"] == SensorState.STALE:
            sensors_recover([sensor.pk])


def sensor_died(*, sensor: Sensor, now: datetime) -> bool:
    """The sensor's gateway said it went offline at `now` (a DDEATH): record it stale (event),
    reported dead at `now`, unless it is already stale or never reported a sample. Its stale
    work opens with the next check, judged as for any stale sensor. Its session ends.
    Returns whether recorded."""
    with transaction.atomic():
        Sensor.objects.filter(pk=sensor.pk, session_open=True).update(session_open=False)
        sensor.session_open = False
        row = (
            Sensor.objects.select_for_update(no_key=True)
            .filter(pk=sensor.pk, last_sample_at__isnull=False)
            .exclude(state=SensorState.STALE)
            .values("state", "last_sample_at")
            .first()
        )
        if row is None:
            return False
        now = max(now, row["last_sample_at"])
        Sensor.objects.filter(pk=sensor.pk).update(
            state=SensorState.STALE, state_since=now, last_reported_at=now
        )
        ConnectivityEvent.objects.create(
            gateway_id=sensor.gateway_id,
            sensor_id=sensor.pk,
            from_state=row["state"],
            to_state=SensorState.STALE,
            at=now,
            silent_since=row["last_sample_at"],
        )
        sensor.state, sensor.state_since = SensorState.STALE, now
    return True
