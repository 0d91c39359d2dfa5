"""When a gateway is online, late, offline or never seen: one definition, in Python and in SQL.

A gateway is **online** while it has been silent for at most its heartbeat interval, **late**
while silent for longer but at most interval + grace, **offline** beyond that, and **never
seen** until its first sign of life. A sign of life is any signed request it sends that is
admitted (a heartbeat, alerts, readings): `Gateway.last_seen_at`. Heartbeats record it to the
second; alerts and readings at most once a minute (`gateways.services.LAST_SEEN_RESOLUTION`).
The boundaries belong to the earlier state: silent for exactly the interval is still online.

A gateway can also *say* it went offline (a Sparkplug B NDEATH, `fleet.connectivity.gateway_died`):
it is then recorded offline at that moment, after its last sign of life, and stays offline until
it is heard again (`last_seen_at` moves past `connectivity_since`), however recently it spoke.
Without that rule the check would compute it online again and record a false recovery.

A gateway with an open session (`Gateway.session_open`: a Sparkplug B NBIRTH not yet ended by
its NDEATH, `fleet.presence`) is **online** whatever its silence: such a node reports by
exception and may say nothing for hours while its broker connection, watched by the broker's
keepalive, is alive; the broker publishes its NDEATH when it is not. Gateways without a session
(HTTP and plain JSON over MQTT) are judged by their heartbeat interval alone.
"""

from datetime import datetime, timedelta

from django.db import models
from django.db.models import Case, DurationField, F, Func, Q, Value, When

from gateways.choices import Connectivity


def connectivity_at(
    *,
    last_seen_at: datetime | None,
    interval_seconds: int,
    grace_seconds: int,
    now: datetime,
    declared_offline: bool = False,
    session_open: bool = False,
) -> str:
    """The Connectivity value of a gateway last seen at `last_seen_at`, at `now`;
    `declared_offline`: it was recorded offline at or after its last sign of life;
    `session_open`: it has a live Sparkplug session (online however long it is silent)."""
    if last_seen_at is None:
        return Connectivity.NEVER_SEEN
    if session_open:
        return Connectivity.ONLINE
    if declared_offline:
        return Connectivity.OFFLINE
    silent = now - last_seen_at
    if silent <= timedelta(seconds=interval_seconds):
        return Connectivity.ONLINE
    if silent <= timedelta(seconds=interval_seconds + grace_seconds):
        return Connectivity.LATE
    return Connectivity.OFFLINE


def gateway_connectivity(gateway, now: datetime) -> str:
    """`connectivity_at` for a Gateway instance."""
    return connectivity_at(
        last_seen_at=gateway.last_seen_at,
        interval_seconds=gateway.heartbeat_interval_seconds,
        grace_seconds=gateway.heartbeat_grace_seconds,
        now=now,
        declared_offline=declared_offline(gateway),
        session_open=has_open_session(gateway),
    )


def has_open_session(gateway) -> bool:
    """A Sparkplug session is open and the gateway still has its Sparkplug identity (a session
    left open when the identity was removed no longer speaks for it)."""
    return gateway.session_open and bool(gateway.sparkplug_edge_node_id)


def open_session(prefix: str = "") -> Q:
    """`has_open_session` as a filter, on the gateway at `prefix` (e.g. "gateway__")."""
    return Q(**{f"{prefix}session_open": True}) & ~Q(**{f"{prefix}sparkplug_edge_node_id": ""})


def declared_offline(gateway) -> bool:
    """Recorded offline at or after its last sign of life (see the module's docstring)."""
    return (
        gateway.connectivity == Connectivity.OFFLINE
        and gateway.connectivity_since is not None
        and gateway.last_seen_at is not None
        and gateway.connectivity_since >= gateway.last_seen_at
    )


class Seconds(Func):
    """A whole number of seconds (an integer column) as a duration, to add to a datetime."""

    output_field = DurationField()
    template = "(%(expressions)s * INTERVAL '1 second')"

    def as_sqlite(self, compiler, connection, **extra_context):
        # Django keeps SQLite durations as integer microseconds.
        return self.as_sql(compiler, connection, template="(%(expressions)s * 1000000)")


def _seconds(field: str) -> Seconds:
    return Seconds(F(field))


def with_connectivity(queryset: models.QuerySet, now: datetime, name: str = "status"):
    """The Gateway queryset annotated with `connectivity_at` at `now` as `name`, computed by
    the database (one query for a whole fleet)."""
    late_from = F("last_seen_at") + _seconds("heartbeat_interval_seconds")
    offline_from = late_from + _seconds("heartbeat_grace_seconds")
    return queryset.alias(_late_from=late_from, _offline_from=offline_from).annotate(
        **{
            name: Case(
                When(last_seen_at__isnull=True, then=Value(Connectivity.NEVER_SEEN.value)),
                When(open_session(), then=Value(Connectivity.ONLINE.value)),
                When(
                    connectivity=Connectivity.OFFLINE,
                    connectivity_since__gte=F("last_seen_at"),
                    then=Value(Connectivity.OFFLINE.value),
                ),
                When(_late_from__gte=now, then=Value(Connectivity.ONLINE.value)),
                When(_offline_from__gte=now, then=Value(Connectivity.LATE.value)),
                default=Value(Connectivity.OFFLINE.value),
                output_field=models.CharField(),
            )
        }
    )
