"""Gateways and sensors going silent and coming back: transitions, events, and their work.

`check_connectivity` (beat, every minute) compares what each active device *is* at `now`
(computed by the database: `gateways.health` for gateways, `sensor_states` here for sensors)
with what was last recorded, in one query per kind of device whatever the fleet's size, and
for each difference:

- records the transition (`connectivity`/`connectivity_since`, a sensor's `state`/`state_since`)
  and a `ConnectivityEvent`, in bulk;
- opens silence work for a gateway that went offline, and stale work for a sensor that is stale
  while its gateway is online (`fleet.work`, at most one open per device and issue);
- notes a recovery on the open work, and cancels it when nobody started it
  (FLEET_CLOSE_RECOVERED_WORK);
- then keeps `Asset.not_monitored_since` in two bulk statements.

Two checks at once record each transition once: the rows that changed are claimed with
`SELECT ... FOR NO KEY UPDATE SKIP LOCKED`, so a second check skips what the first holds and,
once the first commits, finds the recorded state equal to the computed one. The heartbeat ingest
calls `gateway_heard` when a silent gateway speaks, which takes the same row lock. The claim is
NO KEY: rows that merely reference a claimed gateway (events, work orders) do not wait for it.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    Exists,
    F,
    Max,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)

from assets.models import Asset
from fleet import work
from fleet.outbound import gateway_transitions_announce
from gateways.choices import Connectivity, SensorState
from gateways.health import Seconds, open_session
from gateways.models import ConnectivityEvent, Gateway, Sensor
from workorders.choices import OPEN_STATUSES, DeviceIssue
from workorders.models import WorkOrder

log = logging.getLogger(__name__)

CHUNK = 2000
RECOVERING_FROM = frozenset({Connectivity.LATE, Connectivity.OFFLINE})


@dataclass
class Transition:
    """One recorded change of a device's state."""

    gateway_id: object
    sensor_id: int | None
    from_state: str
    to_state: str
    silent_since: datetime | None


@dataclass
class CheckResult:
    """What one check did: the transitions it recorded, the work it opened and the work it
    found recovered (noted, and cancelled when unstarted)."""

    gateways: list[Transition] = field(default_factory=list)
    sensors: list[Transition] = field(default_factory=list)
    opened: list = field(default_factory=list)
    recovered: list = field(default_factory=list)


# ---------------------------------------------------------------- the sensors' definition


def sensor_state_at(
    *,
    last_sample_at: datetime | None,
    stale_after_seconds: int,
    gateway_offline: bool,
    now,
    declared_dead: bool = False,
    session_open: bool = False,
) -> str:
    """A sensor's state at `now`: never seen until a sample is reported; stale when its last
    sample is older than `stale_after_seconds` or its gateway is offline, or when its gateway
    reported it dead (`sensor_died`) and it has sent no sample since; else live. Exactly
    `stale_after_seconds` old is still live (the boundary belongs to the earlier state, as for
    gateways). A sensor with an open session (born by its gateway, `sensor_born`, and not dead
    since) is live however old its last sample, while its gateway is not offline."""
    if last_sample_at is None:
        return SensorState.NEVER_SEEN
    if session_open and not gateway_offline:
        return SensorState.LIVE
    if (
        declared_dead
        or gateway_offline
        or (now - last_sample_at).total_seconds() > stale_after_seconds
    ):
        return SensorState.STALE
    return SensorState.LIVE


def _gateway_offline_from(prefix: str = "gateway__"):
    return (
        F(f"{prefix}last_seen_at")
        + Seconds(F(f"{prefix}heartbeat_interval_seconds"))
        + Seconds(F(f"{prefix}heartbeat_grace_seconds"))
    )


def sensor_states(queryset, now: datetime, name: str = "computed"):
    """The Sensor queryset annotated with `sensor_state_at` at `now` as `name`, and whether its
    gateway is offline at `now` as `gateway_offline` (computed by the database). A gateway
    with an open session is online (`gateways.health`)."""
    gateway_online_until = F("gateway__last_seen_at") + Seconds(
        F("gateway__heartbeat_interval_seconds")
    )
    gateway_session = open_session("gateway__")
    return queryset.alias(
        _gateway_offline_from=_gateway_offline_from(),
        _gateway_online_until=gateway_online_until,
        _stale_from=F("last_sample_at") + Seconds(F("stale_after_seconds")),
    ).annotate(
        gateway_offline=Case(
            When(gateway_session, then=Value(False)),
            When(_gateway_offline_from__lt=now, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
        gateway_online=Case(
            When(gateway_session, then=Value(True)),
            When(_gateway_online_until__gte=now, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
        **{
            name: Case(
                When(last_sample_at__isnull=True, then=Value(SensorState.NEVER_SEEN.value)),
                When(
                    ~gateway_session & Q(_gateway_offline_from__lt=now),
                    then=Value(SensorState.STALE.value),
                ),
                When(
                    Q(session_open=True) & ~Q(gateway__sparkplug_edge_node_id=""),
                    then=Value(SensorState.LIVE.value),
                ),
                # Reported dead by its gateway (`sensor_died`) and no sample since.
                When(
                    state=SensorState.STALE,
                    last_reported_at=F("state_since"),
                    state_since__gte=F("last_sample_at"),
                    then=Value(SensorState.STALE.value),
                ),
                When(_stale_from__gte=now, then=Value(SensorState.LIVE.value)),
                default=Value(SensorState.STALE.value),
                output_field=CharField(),
            )
        },
    )


def _checked_sensors():
    """Sensors the check looks after: active, behind an active gateway."""
    return Sensor.objects.filter(is_active=True, gateway__is_active=True)


# ---------------------------------------------------------------- the check


def check_connectivity(*, now: datetime) -> CheckResult:
    """Record every transition of the fleet at `now` and open and settle its work (see the
    module's docstring). Safe to run concurrently with itself and with heartbeats."""
    result = CheckResult()
    skill = work.FleetSkill()
    with transaction.atomic():
        result.gateways = _record_gateway_transitions(now)
        result.sensors = _record_sensor_transitions(now)
        offline = [t.gateway_id for t in result.gateways if t.to_state == Connectivity.OFFLINE]
        result.opened += _open_silence_work(offline, now=now, skill=skill)
        heard = [
            t.gateway_id
            for t in result.gateways
            if t.to_state == Connectivity.ONLINE and t.from_state in RECOVERING_FROM
        ]
        result.recovered += _recover_gateways(heard, heard_at=None)
        live_again = [
            t.sensor_id
            for t in result.sensors
            if t.to_state == SensorState.LIVE and t.from_state == SensorState.STALE
        ]
        result.recovered += _recover_sensors(live_again)
    # After the claimed rows are released: stale work may be on any sensor, also one whose
    # gateway another check holds, and two checks inserting several such work orders in one
    # transaction each could wait for each other. One transaction per work order cannot.
    result.opened += _open_stale_work(now=now, skill=skill)
    mark_unmonitored_assets()
    return result


def gateway_transition(*, gateway, to: str, now: datetime) -> dict | None:
    """Record `gateway` as `to` at `now` with its connectivity event, unless it is recorded so
    already; returns what was recorded before (connectivity, last_seen_at), or None. Call in a
    transaction: the recorded state is read under the row lock, so a check that recorded
    another state a moment ago is seen, and a concurrent one cannot record the same change."""
    row = (
        Gateway.objects.select_for_update(no_key=True)
        .filter(pk=gateway.pk)
        .exclude(connectivity=to)
        .values("connectivity", "last_seen_at")
        .first()
    )
    if row is None:
        return None
    Gateway.objects.filter(pk=gateway.pk).update(connectivity=to, connectivity_since=now)
    ConnectivityEvent.objects.create(
        gateway_id=gateway.pk,
        from_state=row["connectivity"],
        to_state=to,
        at=now,
        silent_since=row["last_seen_at"],
    )
    gateway.connectivity, gateway.connectivity_since = to, now
    announced = {"gateway_id": gateway.pk, "site_id": gateway.site_id, "to_state": to}
    gateway_transitions_announce(
        [{**announced, "from_state": row["connectivity"], "last_seen_at": row["last_seen_at"]}],
        now=now,
    )
    return row


def gateway_heard(*, gateway, now: datetime) -> None:
    """A signed heartbeat was just stored for `gateway`: if its recorded connectivity is not
    online, record the recovery now (event, timeline, unstarted work closed) instead of
    waiting for the next check. Called by the heartbeat ingest, inside its transaction."""
    with transaction.atomic():
        row = gateway_transition(gateway=gateway, to=Connectivity.ONLINE, now=now)
        if row is None:
            return
        if row["connectivity"] in RECOVERING_FROM:
            _recover_gateways([gateway.pk], heard_at=now)


# ---------------------------------------------------------------- transitions


def _record_gateway_transitions(now: datetime) -> list[Transition]:
    """Claim (row locks, SKIP LOCKED) and record every active gateway whose computed state
    differs from its recorded one: one SELECT for the fleet, bulk writes for the changes."""
    rows = list(
        # No ordering: it would join the site, and FOR UPDATE would lock it too.
        Gateway.objects.select_for_update(skip_locked=True, no_key=True, of=("self",))
        .order_by()
        .filter(is_active=True)
        .with_connectivity(now, name="computed")
        .exclude(computed=F("connectivity"))
        .values("id", "site_id", "connectivity", "computed", "last_seen_at")
    )
    transitions = [
        Transition(r["id"], None, r["connectivity"], r["computed"], r["last_seen_at"]) for r in rows
    ]
    _write(Gateway, transitions, now, state="connectivity", since="connectivity_since")
    gateway_transitions_announce(
        [
            {
                "gateway_id": r["id"],
                "site_id": r["site_id"],
                "from_state": r["connectivity"],
                "to_state": r["computed"],
                "last_seen_at": r["last_seen_at"],
            }
            for r in rows
        ],
        now=now,
    )
    return transitions


def _record_sensor_transitions(now: datetime) -> list[Transition]:
    """As `_record_gateway_transitions`, for the sensors (their gateway's state judged at the
    same `now`, so a gateway recorded offline and its sensors recorded stale agree)."""
    rows = list(
        sensor_states(
            _checked_sensors()
            .select_for_update(skip_locked=True, no_key=True, of=("self",))
            .order_by(),
            now,
        )
        .exclude(computed=F("state"))
        .values("id", "gateway_id", "state", "computed", "last_sample_at")
    )
    transitions = [
        Transition(r["gateway_id"], r["id"], r["state"], r["computed"], r["last_sample_at"])
        for r in rows
    ]
    _write(Sensor, transitions, now, state="state", since="state_since")
    return transitions


def _write(model, transitions: list[Transition], now: datetime, *, state: str, since: str):
    """One UPDATE per new state and chunk, and the events in bulk. Call while holding the
    rows' locks."""
    groups = defaultdict(list)
    for t in transitions:
        groups[t.to_state].append(t.sensor_id if model is Sensor else t.gateway_id)
    for to_state, ids in groups.items():
        for start in range(0, len(ids), CHUNK):
            model.objects.filter(pk__in=ids[start : start + CHUNK]).update(
                **{state: to_state, since: now}
            )
    ConnectivityEvent.objects.bulk_create(
        (
            ConnectivityEvent(
                gateway_id=t.gateway_id,
                sensor_id=t.sensor_id,
                from_state=t.from_state,
                to_state=t.to_state,
                at=now,
                silent_since=t.silent_since,
            )
            for t in transitions
        ),
        batch_size=CHUNK,
    )


# ---------------------------------------------------------------- silence work


def silence_work_open(gateway_ids: list, *, now: datetime, died: bool = False) -> list:
    """Open the silence work of gateways recorded offline (as the check does when they go
    offline; at most one open per gateway). For data loaded with its state, like the demo's,
    and for gateways that said they died (`died`: a Sparkplug NDEATH, fleet.presence)."""
    return _open_silence_work(gateway_ids, now=now, skill=work.FleetSkill(), died=died)


def sensors_recover(sensor_ids: list) -> list:
    """Note the recovery of sensors recorded live again on their open stale work (cancelled
    when unstarted), as the check does; for sensors heard outside the check (fleet.presence)."""
    return _recover_sensors(sensor_ids)


def _open_silence_work(gateway_ids: list, *, now: datetime, skill, died: bool = False) -> list:
    """A corrective work order for each gateway that went offline (one open per gateway):
    prioritised by the most critical asset its active sensors watch, listing those assets.
    `died`: the gateway said so itself (a Sparkplug NDEATH), rather than fell silent."""
    if not gateway_ids:
        return []
    watched = defaultdict(dict)
    for sensor in (
        Sensor.objects.filter(gateway_id__in=gateway_ids, is_active=True, asset__isnull=False)
        .select_related("asset")
        .order_by("asset__criticality", "asset__tag")
        .only("gateway_id", "asset__tag", "asset__name", "asset__criticality")
    ):
        watched[sensor.gateway_id].setdefault(sensor.asset_id, sensor.asset)
    existing = work.open_work_by_device(DeviceIssue.GATEWAY_SILENT, gateway_ids=gateway_ids)
    opened = []
    for gateway in Gateway.objects.filter(pk__in=gateway_ids).select_related("site", "asset"):
        since = work.local_time(gateway.last_seen_at, gateway.site)
        label = work.gateway_label(gateway)
        current = existing.get(work.Device(gateway.pk))
        if current is not None:
            work.fleet_work_note(current, f"Gateway {label} silent again since {since}.")
            continue
        assets = list(watched[gateway.pk].values())
        priority = work.priority_for(a.criticality for a in assets)
        work_order, created = work.fleet_work_open(
            device=work.Device(gateway.pk),
            issue=DeviceIssue.GATEWAY_SILENT,
            site=gateway.site,
            asset=gateway.asset,
            title=f"Gateway {label} silent since {since}",
            description=_silence_description(gateway, label, since, assets, died=died),
            priority=priority,
            due_at=now + work.response_time(priority),
            now=now,
            event=(
                f"Opened on the death of gateway {label} (Sparkplug NDEATH), last heard {since}."
                if died
                else f"Opened by the fleet check: gateway {label} offline, silent since {since}."
            ),
            skill=skill,
        )
        if created:
            opened.append(work_order)
    return opened


def _silence_description(gateway, label: str, since: str, assets: list, *, died=False) -> str:
    if died:
        first = (
            f"Gateway {label} ({gateway.name}) went offline: its Sparkplug B session ended "
            f"(NDEATH) after it was last heard at {since} ({gateway.site.timezone})."
        )
    else:
        first = (
            f"Gateway {label} ({gateway.name}) has sent nothing since {since} "
            f"({gateway.site.timezone}): no heartbeat, alert or reading for longer than its "
            f"heartbeat interval ({gateway.heartbeat_interval_seconds} s) plus its grace "
            f"({gateway.heartbeat_grace_seconds} s)."
        )
    lines = [first, ""]
    if assets:
        lines += ["Assets not monitored meanwhile:", work.asset_list(assets)]
    else:
        lines.append("No active sensor of this gateway watches an asset.")
    return "\n".join(lines)


def _recover_gateways(gateway_ids: list, *, heard_at: datetime | None) -> list:
    """Note on each recovered gateway's open silence work that it was heard again (at
    `heard_at`, or its last sign of life), cancelling unstarted work as recovered."""
    if not gateway_ids:
        return []
    found = work.open_work_by_device(DeviceIssue.GATEWAY_SILENT, gateway_ids=gateway_ids)
    if not found:
        return []
    last_seen = dict(
        Gateway.objects.filter(pk__in=[d.gateway_id for d in found]).values_list(
            "pk", "last_seen_at"
        )
    )
    for device, work_order in found.items():
        heard = heard_at or last_seen[device.gateway_id]
        silent_since = _silent_since(device, Connectivity.OFFLINE) or work_order.created_at
        at = work.local_time(heard, work_order.site)
        work.fleet_work_recover(
            work_order=work_order,
            note=f"Gateway heard again at {at}, silent for {work.duration(heard - silent_since)}.",
            reason=f"Recovered: gateway heard again at {at}",
        )
    return list(found.values())


def _silent_since(device, went: str) -> datetime | None:
    """When the device's last silence began, from the event that recorded it going `went`."""
    return (
        ConnectivityEvent.objects.filter(to_state=went, **device.lookup())
        .order_by("-at", "-id")
        .values_list("silent_since", flat=True)
        .first()
    )


# ---------------------------------------------------------------- stale sensor work


def _open_stale_work(*, now: datetime, skill) -> list:
    """Work for every stale sensor whose gateway is online and that has had no stale work since
    it went stale (one query finds them).

    Judged on the recorded state rather than on this check's transitions, so a sensor that went
    stale while its gateway was silent (the silence work covered it) gets its own work once the
    gateway is back and the sensor still says nothing. A late gateway's sensors wait: within its
    grace the gateway either reports or goes offline. Work cancelled by a planner is not opened
    again until the sensor has been live and gone stale anew.
    """
    stale_work = WorkOrder.objects.filter(
        sensor=OuterRef("pk"), device_issue=DeviceIssue.SENSOR_STALE
    )
    candidates = (
        sensor_states(_checked_sensors().filter(state=SensorState.STALE), now)
        .filter(gateway_online=True, computed=SensorState.STALE)
        .exclude(Exists(stale_work.filter(created_at__gte=OuterRef("state_since"))))
        .exclude(Exists(stale_work.filter(status__in=OPEN_STATUSES)))
        .select_related("gateway__site", "gateway__asset", "asset")
    )
    opened = []
    for sensor in candidates:
        gateway = sensor.gateway
        since = work.local_time(sensor.last_sample_at, gateway.site)
        name = sensor.name or sensor.code
        where = sensor.asset.tag if sensor.asset_id else work.gateway_label(gateway)
        priority = work.priority_for([sensor.asset.criticality] if sensor.asset_id else [])
        work_order, created = work.fleet_work_open(
            device=work.Device(gateway.pk, sensor.pk),
            issue=DeviceIssue.SENSOR_STALE,
            site=gateway.site,
            asset=sensor.asset,
            title=f"Sensor {name} on {where} stale since {since}",
            description=_stale_description(sensor, name, since),
            priority=priority,
            due_at=now + work.response_time(priority),
            now=now,
            event=f"Opened by the fleet check: sensor {name} stale, no sample since {since}.",
            skill=skill,
        )
        if created:
            opened.append(work_order)
    return opened


def _stale_description(sensor, name: str, since: str) -> str:
    gateway = sensor.gateway
    measures = f" ({sensor.measures})" if sensor.measures else ""
    lines = [
        f"Sensor {name}{measures} behind gateway {work.gateway_label(gateway)} has reported no "
        f"sample since {since} ({gateway.site.timezone}), longer than its "
        f"{sensor.stale_after_seconds} s. The gateway itself is online.",
    ]
    if sensor.asset_id:
        lines += ["", "Not monitored by this sensor meanwhile:", work.asset_list([sensor.asset])]
    return "\n".join(lines)


def _recover_sensors(sensor_ids: list) -> list:
    """Note on each live-again sensor's open stale work that it reports again (its last
    sample), cancelling unstarted work as recovered."""
    if not sensor_ids:
        return []
    found = work.open_work_by_device(DeviceIssue.SENSOR_STALE, sensor_ids=sensor_ids)
    if not found:
        return []
    last_sample = dict(
        Sensor.objects.filter(pk__in=[d.sensor_id for d in found]).values_list(
            "pk", "last_sample_at"
        )
    )
    for device, work_order in found.items():
        heard = last_sample[device.sensor_id]
        silent_since = _silent_since(device, SensorState.STALE) or work_order.created_at
        at = work.local_time(heard, work_order.site)
        work.fleet_work_recover(
            work_order=work_order,
            note=f"Sensor heard again at {at}, silent for {work.duration(heard - silent_since)}.",
            reason=f"Recovered: sensor heard again at {at}",
        )
    return list(found.values())


# ---------------------------------------------------------------- monitoring lost


def mark_unmonitored_assets() -> None:
    """Keep `Asset.not_monitored_since` in two statements: set it on every asset whose
    watching sensors (active, behind an active gateway) are all silent (stale or never seen,
    which covers an offline gateway) to the latest sample any of them reported (empty if none
    ever did), and clear it everywhere else.

    The silent assets come from one grouped pass over the sensors (a semi-join for the
    database), so the statements cost the same whether 10 or 10,000 assets are watched; only
    the silent ones are then visited for their latest sample.
    """
    silent = (
        _checked_sensors()
        .filter(asset__isnull=False)
        .order_by()
        .values("asset_id")
        .annotate(live=Count("pk", filter=Q(state=SensorState.LIVE)))
        .filter(live=0)
        .values("asset_id")
    )
    latest = Subquery(
        _checked_sensors()
        .filter(asset_id=OuterRef("pk"))
        .order_by()
        .values("asset_id")
        .annotate(latest=Max("last_sample_at"))
        .values("latest")[:1]
    )
    Asset.objects.filter(not_monitored_since__isnull=False).exclude(pk__in=silent).update(
        not_monitored_since=None
    )
    Asset.objects.filter(pk__in=silent).alias(latest=latest).filter(
        Q(not_monitored_since__isnull=True, latest__isnull=False)
        | Q(not_monitored_since__lt=F("latest"))
        | Q(not_monitored_since__gt=F("latest"))
    ).update(not_monitored_since=latest)
