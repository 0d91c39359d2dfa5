"""Fleet work orders: opening one for a device and an issue (at most one open), and settling it
when the device is heard again.

The checks (`fleet.connectivity`, `fleet.upkeep`) decide *that* a device needs work; this
module decides how the work looks (who gets it, by when) and keeps it unique. Uniqueness is the
database's: `one_open_work_order_per_gateway_issue` (gateway work, `sensor` empty) and
`one_open_work_order_per_sensor_issue`. A creation that loses a race to another check (or to
the heartbeat ingest) fails on that constraint inside a savepoint and answers with the winner.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction

from accounts.models import Skill
from assets.choices import Criticality
from pipeline.choices import DEFAULT_RESPONSE, PRIORITY_FOR_SEVERITY
from pipeline.selectors import technician_for
from workorders import services as wo_services
from workorders.choices import OPEN_STATUSES, EventKind, Priority, Source, Status, WorkOrderType
from workorders.models import WorkOrder, WorkOrderEvent
from workorders.tasks import notify_assignee

log = logging.getLogger(__name__)

# The priority of work on a device, from the most critical asset it watches.
PRIORITY_FOR_CRITICALITY = {
    Criticality.A: Priority.HIGH,
    Criticality.B: Priority.MEDIUM,
    Criticality.C: Priority.LOW,
}
PRIORITY_WATCHING_NOTHING = Priority.MEDIUM
# Unstarted work: what a recovery may cancel.
UNSTARTED = frozenset({Status.REQUESTED, Status.APPROVED, Status.SCHEDULED})
ESTIMATED_HOURS = Decimal("1")
LISTED_ASSETS = 50


def priority_for(criticalities) -> int:
    """The priority of work on a device watching assets of these criticalities: the most
    critical one decides (A high, B medium, C low); a device watching nothing is medium."""
    priorities = [PRIORITY_FOR_CRITICALITY[c] for c in criticalities if c]
    return min(priorities, default=PRIORITY_WATCHING_NOTHING)


def response_time(priority: int) -> timedelta:
    """How long alert work of this priority has (pipeline.choices.DEFAULT_RESPONSE): fleet work
    is due like the alert work it stands in for."""
    for severity, alert_priority in PRIORITY_FOR_SEVERITY.items():
        if alert_priority == priority:
            return DEFAULT_RESPONSE[severity]
    return DEFAULT_RESPONSE[max(PRIORITY_FOR_SEVERITY, key=PRIORITY_FOR_SEVERITY.get)]


def local_time(instant: datetime, site) -> str:
    """`instant` on the site's wall clock, as titles and timelines show it."""
    return f"{instant.astimezone(ZoneInfo(site.timezone)):%Y-%m-%d %H:%M}"


def duration(delta: timedelta) -> str:
    """A silence's length for people: "3 d 4 h", "2 h 5 min", "40 s"."""
    seconds = max(int(delta.total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min"
    return f"{seconds} s"


def gateway_label(gateway) -> str:
    """How fleet work names a gateway: the tag of the asset it is recorded as, else its name."""
    return gateway.asset.tag if gateway.asset_id else gateway.name


def asset_list(assets, cap: int = LISTED_ASSETS) -> str:
    """One line per asset ("P-101 — Cooling water pump"), at most `cap`, then "and N more"."""
    lines = [f"- {asset.tag} — {asset.name}" for asset in assets[:cap]]
    if len(assets) > cap:
        lines.append(f"- and {len(assets) - cap} more")
    return "\n".join(lines)


@dataclass(frozen=True)
class Device:
    """What fleet work is about: a gateway, or a sensor behind it."""

    gateway_id: object
    sensor_id: int | None = None

    def open_work(self, issue: str):
        """This device's open work orders for `issue` (at most one)."""
        return WorkOrder.objects.filter(
            status__in=OPEN_STATUSES, device_issue=issue, **self.lookup()
        )

    def lookup(self) -> dict:
        if self.sensor_id is None:
            return {"gateway_id": self.gateway_id, "sensor__isnull": True}
        return {"sensor_id": self.sensor_id}


def open_work_by_device(issue: str, *, gateway_ids=(), sensor_ids=()) -> dict:
    """The open work orders for `issue` of these gateways (gateway work) and sensors, by Device
    (one query)."""
    found = {}
    if gateway_ids:
        for wo in WorkOrder.objects.select_related("site").filter(
            status__in=OPEN_STATUSES,
            device_issue=issue,
            gateway_id__in=list(gateway_ids),
            sensor__isnull=True,
        ):
            found[Device(wo.gateway_id)] = wo
    if sensor_ids:
        for wo in WorkOrder.objects.select_related("site").filter(
            status__in=OPEN_STATUSES, device_issue=issue, sensor_id__in=list(sensor_ids)
        ):
            found[Device(wo.gateway_id, wo.sensor_id)] = wo
    return found


class FleetSkill:
    """The FLEET_SKILL skill, looked up once per check (None when no skill has that code)."""

    def __init__(self):
        self._loaded = False
        self._skill = None

    def get(self):
        if not self._loaded:
            self._skill = Skill.objects.filter(code=settings.FLEET_SKILL).first()
            self._loaded = True
        return self._skill


def fleet_technician(*, site_id: int, skill):
    """Who gets fleet work at a site: the least loaded technician with the fleet skill; without
    one, any technician of the site as the alert pipeline picks them; else nobody."""
    technician = None
    if skill is not None:
        technician = technician_for(site_id=site_id, skill_id=skill.pk)
    return technician or technician_for(site_id=site_id, skill_id=None)


def fleet_work_open(
    *,
    device: Device,
    issue: str,
    site,
    title: str,
    description: str,
    priority: int,
    due_at: datetime,
    now: datetime,
    event: str,
    skill: FleetSkill,
    asset=None,
) -> tuple[WorkOrder, bool]:
    """Open the work order for `device` and `issue` unless one is open; returns it and whether
    it was created. A concurrent creation of the same work answers with the winner's."""
    fleet_skill = skill.get()
    technician = fleet_technician(site_id=site.pk, skill=fleet_skill)
    fields = {
        "site": site,
        "asset": asset,
        "title": title[:200],
        "description": description,
        "status": Status.SCHEDULED,
        "source": Source.FLEET,
        "type": WorkOrderType.CORRECTIVE,
        "priority": priority,
        "due_at": due_at,
        "estimated_hours": ESTIMATED_HOURS,
        "required_skill": fleet_skill,
        "assignee": technician,
        "scheduled_start": min(max(now, due_at - timedelta(hours=1)), now + timedelta(hours=1))
        if technician
        else None,
        "needs_attention": "" if technician else "No qualified technician available",
        "gateway_id": device.gateway_id,
        "sensor_id": device.sensor_id,
        "device_issue": issue,
        "event": event + (f" Assigned to {technician.get_username()}." if technician else ""),
    }
    try:
        with transaction.atomic():
            work_order = wo_services.work_order_create(**fields)
    except IntegrityError:
        existing = device.open_work(issue).first()
        if existing is None:
            raise
        return existing, False
    if technician is not None:
        transaction.on_commit(lambda: _notify(work_order.pk))
    return work_order, True


def fleet_work_note(work_order: WorkOrder, message: str, **data) -> None:
    """A connectivity entry on the work order's timeline (by the system)."""
    WorkOrderEvent.objects.create(
        work_order=work_order, kind=EventKind.CONNECTIVITY, message=message, data=data
    )


def fleet_work_recover(*, work_order: WorkOrder, note: str, reason: str, **data) -> bool:
    """The device of `work_order` is heard again: say so on its timeline and, when
    FLEET_CLOSE_RECOVERED_WORK is on and nobody started the work, cancel it with `reason`.
    Started work stays open with the note (`data` kept with it). Returns whether it was
    cancelled.

    The status is read again under the work order's lock: a technician who starts (or
    finishes) the work at that moment is not overruled by a status read before."""
    with transaction.atomic():
        work_order = WorkOrder.objects.select_for_update().get(pk=work_order.pk)
        if work_order.status not in OPEN_STATUSES:
            return False  # finished or cancelled meanwhile: nothing to settle
        return _recover(work_order, note=note, reason=reason, **data)


def _recover(work_order: WorkOrder, *, note: str, reason: str, **data) -> bool:
    cancel = settings.FLEET_CLOSE_RECOVERED_WORK and work_order.status in UNSTARTED
    if cancel:
        note += " The work had not started: cancelled as recovered."
    elif work_order.status in UNSTARTED:
        note += " The work stays open (FLEET_CLOSE_RECOVERED_WORK is off)."
    else:
        note += " The work had started: it stays open."
    fleet_work_note(work_order, note, recovered=True, cancelled=bool(cancel), **data)
    if cancel:
        wo_services.work_order_transition(work_order=work_order, to=Status.CANCELLED, reason=reason)
    return bool(cancel)


def _notify(work_order_id: int) -> None:
    try:
        notify_assignee.delay(work_order_id)
    except Exception:  # the broker is down: the work order is assigned anyway
        log.warning("could not enqueue the notice for work order %s", work_order_id, exc_info=True)
