"""Turning due PM occurrences into work orders, in bulk and exactly once.

One run walks the active plans in chunks of ids. For each chunk it reads everything it needs
in a fixed number of queries (plans, their assets, the latest occurrence per plan and asset,
open PM work, meter statistics), computes the due occurrences in Python, and then, in one
transaction per chunk:

1. inserts the occurrences with ON CONFLICT DO NOTHING, tagged with the run's id; the unique
   constraints on (plan, asset, due date | threshold) let exactly one run insert each one;
2. reads back the occurrences this run actually inserted (by the run id) and creates work
   orders only for those with `work_orders_create_bulk` (numbers, status history, checklist,
   timeline and part reservations, as `work_order_create` writes them for one).

A missed run is caught up by the next one: occurrences are computed from the last stored
occurrence, not from "today", and the ones generated after their time are marked late.
"""

import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import reduce
from operator import or_
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from assets.choices import AssetState
from assets.models import Asset, Meter, Site
from integrations.choices import EventType
from pm import schedule
from pm.choices import Anchor, OccurrenceStatus, Scope, Trigger
from pm.models import PMOccurrence, PMPlan
from pm.services.meters import MeterStatistics, meter_statistics
from workorders.bulk import work_orders_create_bulk
from workorders.choices import OPEN_STATUSES, Source, WorkOrderType
from workorders.models import JobPlan, WorkOrder
from workorders.outbound import work_orders_announce

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1000
ONE_MICROSECOND = timedelta(microseconds=1)


def late_grace() -> timedelta:
    """How long after its generation time an occurrence may appear before it counts as late."""
    return timedelta(minutes=getattr(settings, "PM_LATE_GRACE_MINUTES", 60))


@dataclass
class GenerationResult:
    run: uuid.UUID
    generated: int = 0
    skipped: int = 0
    late: int = 0
    work_order_ids: list[int] = field(default_factory=list)

    def add(self, other: "GenerationResult") -> None:
        self.generated += other.generated
        self.skipped += other.skipped
        self.late += other.late
        self.work_order_ids += other.work_order_ids


class Latest(NamedTuple):
    """The latest occurrence of a plan for an asset, with its work order's state."""

    due_at: datetime
    threshold: Decimal | None
    status: str
    work_order_id: int | None
    work_order_status: str | None
    completed_at: datetime | None
    closed_at: datetime | None


@dataclass
class Target:
    """One asset of a plan, with the state that decides what is due next."""

    asset_id: int
    tag: str
    meter_id: int | None = None
    latest: "Latest | None" = None
    open_work_order: str | None = None  # number of the plan's open PM work order
    stats: MeterStatistics | None = None


def pm_generate_due(
    *, now: datetime | None = None, plan_ids=None, chunk_size: int = CHUNK_SIZE
) -> GenerationResult:
    """Generate every due PM occurrence of the active plans (or of `plan_ids`); safe to repeat
    and to run concurrently: each occurrence is created exactly once."""
    now = now or timezone.now()
    result = GenerationResult(run=uuid.uuid4())
    for ids in _id_chunks(plan_ids, chunk_size):
        result.add(_generate_chunk(ids, now=now, run=result.run))
    if result.generated or result.skipped:
        logger.info(
            "PM run %s: %s work orders generated (%s late), %s occurrences skipped.",
            result.run,
            result.generated,
            result.late,
            result.skipped,
        )
    return result


def _id_chunks(plan_ids, chunk_size: int):
    """Ids of active plans in ascending chunks (keyset pagination, or the given ids)."""
    if plan_ids is not None:
        ids = sorted(set(plan_ids))
        for start in range(0, len(ids), chunk_size):
            yield ids[start : start + chunk_size]
        return
    last_id = 0
    while True:
        ids = list(
            PMPlan.objects.active()
            .filter(pk__gt=last_id)
            .order_by("pk")
            .values_list("pk", flat=True)[:chunk_size]
        )
        if not ids:
            return
        last_id = ids[-1]
        yield ids


def _generate_chunk(ids: list[int], *, now: datetime, run: uuid.UUID) -> GenerationResult:
    plans = list(PMPlan.objects.active().filter(pk__in=ids).order_by("pk"))
    sites = Site.objects.in_bulk({p.site_id for p in plans})
    job_plans = JobPlan.objects.in_bulk({p.job_plan_id for p in plans})
    for plan in plans:
        plan.site = sites[plan.site_id]
        plan.job_plan = job_plans[plan.job_plan_id]
    targets = plan_targets(plans)
    attach_state(plans, targets)
    candidates = []
    for plan in plans:
        for target in targets.get(plan.pk, []):
            candidates += due_occurrences(plan, target, now=now, run=run)
    result = GenerationResult(run=run)
    if not candidates:
        return result
    with transaction.atomic():
        PMOccurrence.objects.bulk_create(candidates, ignore_conflicts=True, batch_size=2000)
        mine = list(PMOccurrence.objects.filter(run=run, plan_id__in=ids).order_by("plan_id", "id"))
        generated = [o for o in mine if o.status == OccurrenceStatus.GENERATED]
        result.skipped = len(mine) - len(generated)
        result.late = sum(1 for o in generated if o.late)
        result.generated = len(generated)
        if generated:
            by_id = {plan.pk: plan for plan in plans}
            tags = {t.asset_id: t.tag for ts in targets.values() for t in ts}
            result.work_order_ids = _create_work_orders(generated, by_id, tags, now=now)
    return result


# --------------------------------------------------------------------------- reading state


def plan_targets(plans: list[PMPlan]) -> dict[int, list[Target]]:
    """The assets of each plan (decommissioned ones left out), in a bounded number of queries."""
    live = Asset.objects.exclude(state=AssetState.DECOMMISSIONED)
    single = {p.asset_id for p in plans if p.scope == Scope.ASSET}
    classes = {(p.site_id, p.equipment_class_id) for p in plans if p.scope == Scope.EQUIPMENT_CLASS}
    subtree_tops = {p.asset_id for p in plans if p.scope == Scope.SUBTREE}
    roots = (
        dict(Asset.objects.filter(pk__in=subtree_tops).values_list("pk", "path"))
        if subtree_tops
        else {}
    )
    conditions = [Q(site_id=site_id, equipment_class_id=class_id) for site_id, class_id in classes]
    conditions += [Q(path__startswith=path) for path in roots.values()]
    columns = ("pk", "tag", "site_id", "path", "equipment_class_id")
    rows = list(live.filter(pk__in=single).values_list(*columns)) if single else []
    for start in range(0, len(conditions), 200):
        rows += live.filter(reduce(or_, conditions[start : start + 200])).values_list(*columns)
    by_pk = {row[0]: row for row in rows}
    by_class = defaultdict(list)
    for row in rows:
        by_class[(row[2], row[4])].append(row)
    targets: dict[int, list[Target]] = {}
    for plan in plans:
        if plan.scope == Scope.ASSET:
            matched = [by_pk[plan.asset_id]] if plan.asset_id in by_pk else []
        elif plan.scope == Scope.SUBTREE:
            matched = [
                r
                for r in rows
                if r[2] == plan.site_id
                and r[3].startswith(roots.get(plan.asset_id, "-"))
                and plan.equipment_class_id in (None, r[4])
            ]
        else:
            matched = by_class[(plan.site_id, plan.equipment_class_id)]
        targets[plan.pk] = [Target(asset_id=r[0], tag=r[1]) for r in sorted(matched)]
    _attach_meters(plans, targets)
    return targets


def _attach_meters(plans: list[PMPlan], targets: dict[int, list[Target]]) -> None:
    """Meter plans keep only the assets that have the plan's meter."""
    meter_plans = [p for p in plans if p.trigger == Trigger.METER]
    if not meter_plans:
        return
    asset_ids = {t.asset_id for p in meter_plans for t in targets[p.pk]}
    codes = {p.meter_code for p in meter_plans}
    meters = {
        (asset_id, code): pk
        for pk, asset_id, code in Meter.objects.filter(
            asset_id__in=asset_ids, code__in=codes
        ).values_list("pk", "asset_id", "code")
    }
    for plan in meter_plans:
        kept = []
        for target in targets[plan.pk]:
            target.meter_id = meters.get((target.asset_id, plan.meter_code))
            if target.meter_id is not None:
                kept.append(target)
        targets[plan.pk] = kept


LATEST_COLUMNS = ("plan_id", "asset_id", "due_at", "threshold", "status", "work_order_id")


def attach_state(plans: list[PMPlan], targets: dict[int, list[Target]]) -> None:
    """The latest occurrence and any open PM work order per (plan, asset): three queries."""
    ids = [plan.pk for plan in plans]
    latest = list(
        PMOccurrence.objects.filter(plan_id__in=ids)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("plan_id"), F("asset_id")],
                order_by=[F("threshold").desc(nulls_last=True), F("due_at").desc()],
            )
        )
        .filter(rank=1)
        .values_list(*LATEST_COLUMNS)
    )
    # A second indexed query rather than a join, which PostgreSQL plans as a scan of all work.
    work = {
        row[0]: row[1:]
        for row in WorkOrder.objects.filter(pk__in=[r[5] for r in latest if r[5]]).values_list(
            "pk", "status", "completed_at", "closed_at"
        )
    }
    latest_by_key = {
        (plan_id, asset_id): Latest(due_at, threshold, status, wo_id, *work.get(wo_id, (None,) * 3))
        for plan_id, asset_id, due_at, threshold, status, wo_id in latest
    }
    open_by_key = {
        (plan_id, asset_id): number
        for plan_id, asset_id, number in WorkOrder.objects.filter(
            pm_plan_id__in=ids, status__in=OPEN_STATUSES
        )
        .order_by("due_at")
        .values_list("pm_plan_id", "asset_id", "number")
    }
    for plan in plans:
        for target in targets.get(plan.pk, []):
            target.latest = latest_by_key.get((plan.pk, target.asset_id))
            target.open_work_order = open_by_key.get((plan.pk, target.asset_id))
    meter_ids = [t.meter_id for ts in targets.values() for t in ts if t.meter_id]
    if meter_ids:
        stats = meter_statistics(meter_ids)
        for plan in plans:
            for target in targets.get(plan.pk, []):
                if target.meter_id:
                    target.stats = stats.get(target.meter_id)


# --------------------------------------------------------------------------- what is due


def due_occurrences(
    plan: PMPlan, target: Target, *, now: datetime, run: uuid.UUID
) -> list[PMOccurrence]:
    """The occurrences of one plan for one asset that are due for generation at `now`."""
    if plan.trigger == Trigger.METER:
        pending = _meter_due(plan, target, now=now)
    else:
        dues = calendar_due_dates(plan, target, until=now + plan.lead)
        pending = [(due, None, "") for due in dues]
    occurrences = []
    open_number = target.open_work_order
    for due_at, threshold, superseded in pending:
        occurrence = PMOccurrence(
            plan_id=plan.pk,
            asset_id=target.asset_id,
            due_at=due_at,
            threshold=threshold,
            run=run,
            created_at=now,
        )
        occurrence.late = _is_late(plan, target, due_at, threshold, now=now)
        local = f"{due_at.astimezone(plan.tz):%Y-%m-%d %H:%M %Z}"
        if superseded:
            occurrence.status = OccurrenceStatus.SKIPPED
            occurrence.reason = superseded
        elif plan.skip_while_open and open_number is not None:
            occurrence.status = OccurrenceStatus.SKIPPED
            occurrence.reason = (
                f"Skipped: the previous PM work order {open_number} of this plan is still open."
                if open_number
                else "Skipped: the PM work order of an earlier occurrence is still open."
            )
        else:
            occurrence.status = OccurrenceStatus.GENERATED
            open_number = ""  # its number is assigned on insert
            if occurrence.late:
                what = f"{threshold} {plan.meter_code}" if threshold is not None else local
                occurrence.reason = f"Generated late: missed occurrence of {what} (due {local})."
        occurrences.append(occurrence)
    return occurrences


def _is_late(plan, target, due_at, threshold, *, now) -> bool:
    """Whether the occurrence's generation time passed (by the grace) while nothing generated
    it. The generation time counts from `generate_from` at the earliest: a time before the plan
    existed (or was re-activated or rescheduled) was not missed, so a new plan's first
    occurrences are on time even when they are already inside the lead window."""
    if threshold is None:
        generation_time = due_at - plan.lead
    else:
        stats = target.stats
        # A meter occurrence is due for generation from the reading that reached it.
        if stats is None or stats.last_value < threshold - plan.meter_lead:
            return False
        generation_time = stats.last_at
    return now > max(generation_time, plan.generate_from) + late_grace()


def _floating_due(plan: PMPlan, base: datetime, tz) -> datetime:
    """The due date a floating plan's interval puts after `base` (the last work's finish)."""
    return schedule.floating_due(
        finished_at=base, interval=plan.interval, unit=plan.interval_unit, at=plan.due_time, tz=tz
    )


def calendar_due_dates(
    plan: PMPlan, target: Target, *, until: datetime, limit: int = schedule.MAX_CATCH_UP
) -> list[datetime]:
    """The next due dates of a calendar plan for one asset, up to `until` (at most `limit`):
    generation asks up to now + lead, the forecast up to its horizon."""
    tz = plan.tz
    not_before = plan.generate_from - ONE_MICROSECOND
    latest = target.latest
    if plan.anchor == Anchor.FLOATING and latest is not None:
        base = finished_at(latest)
        if base is None:
            return []  # the last PM work order is still open: the next date is not known yet
        due = _floating_due(plan, base, tz)
        if due <= latest.due_at:  # finished long before it was due: keep the cadence going
            due = _floating_due(plan, latest.due_at, tz)
        in_range = plan.ends_on is None or schedule.local_date(due, tz) <= plan.ends_on
        return [due] if due <= until and in_range else []
    after = max(latest.due_at, not_before) if latest is not None else not_before
    dues = schedule.fixed_due_dates(
        start=plan.starts_on,
        interval=plan.interval,
        unit=plan.interval_unit,
        at=plan.due_time,
        tz=tz,
        after=after,
        until=until,
        ends_on=plan.ends_on,
        # Floating: only the first; later ones follow from its completion.
        limit=1 if plan.anchor == Anchor.FLOATING else limit,
    )
    return list(dues)


def finished_at(latest: Latest) -> datetime | None:
    """When the work of an occurrence ended (completed or cancelled); None while it is open."""
    if latest.status == OccurrenceStatus.SKIPPED or latest.work_order_id is None:
        return latest.due_at
    if latest.work_order_status in OPEN_STATUSES:
        return None
    return latest.completed_at or latest.closed_at or latest.due_at


def _meter_due(plan: PMPlan, target: Target, *, now: datetime):
    """(due_at, threshold, superseded reason) of the thresholds the projected reading reaches."""
    stats = target.stats
    if stats is None:
        return []
    projected = stats.projected(now + plan.lead)
    interval = plan.meter_interval
    last = target.latest.threshold if target.latest is not None else None
    k = 1 if last is None else int((last - plan.meter_start) / interval) + 1
    crossed = []
    while len(crossed) < schedule.MAX_CATCH_UP:
        threshold = plan.meter_start + interval * k
        if last is not None and threshold <= last:
            k += 1
            continue
        if projected < threshold - plan.meter_lead:
            break
        crossed.append(threshold)
        k += 1
    if not crossed:
        return []
    highest = crossed[-1]
    unit = plan.meter_code
    pending = [
        (
            stats.last_at,
            t,
            f"Skipped: superseded by {highest} {unit} (the meter was already at "
            f"{stats.last_value} {unit}).",
        )
        for t in crossed[:-1]
    ]
    pending.append((stats.reaches(highest, now=now), highest, ""))
    return pending


# --------------------------------------------------------------------------- writing


def _create_work_orders(occurrences, plans_by_id, tags, *, now) -> list[int]:
    """Work orders for freshly inserted occurrences, through the bulk creation of work orders
    (history, checklist, timeline, parts); returns their ids."""
    rows, events = [], []
    for occurrence in occurrences:
        plan = plans_by_id[occurrence.plan_id]
        job_plan = plan.job_plan
        rows.append(
            {
                "site_id": plan.site_id,
                "asset_id": occurrence.asset_id,
                "type": WorkOrderType.PREVENTIVE,
                "priority": plan.priority,
                "status": plan.work_order_status,
                "source": Source.PM,
                "title": f"{plan.name}: {tags[occurrence.asset_id]}"[:200],
                "description": _description(plan, occurrence),
                "required_skill_id": job_plan.required_skill_id,
                "estimated_hours": job_plan.estimated_hours,
                "job_plan_id": job_plan.pk,
                "due_at": occurrence.due_at,
                "planned_due_at": occurrence.due_at,
                "pm_plan_id": plan.pk,
                "needs_attention": occurrence.reason[:200] if occurrence.late else "",
            }
        )
        events.append(f"Generated by PM plan “{plan.name}”{' (late)' if occurrence.late else ''}.")
    ids = work_orders_create_bulk(rows=rows, events=events, now=now)
    for occurrence, pk in zip(occurrences, ids, strict=True):
        occurrence.work_order_id = pk
    _link_work_orders(occurrences)
    work_orders_announce(
        ids,
        type=EventType.PM_GENERATED,
        site_ids={row["site_id"] for row in rows},
        extra={
            o.work_order_id: {"pm_plan_id": o.plan_id, "pm_occurrence_id": o.pk}
            for o in occurrences
        },
    )
    return ids


def _link_work_orders(occurrences: list[PMOccurrence]) -> None:
    """Point each occurrence at its new work order: one UPDATE from two arrays on PostgreSQL."""
    if connection.vendor != "postgresql":
        PMOccurrence.objects.bulk_update(occurrences, ["work_order"], batch_size=500)
        return
    table = PMOccurrence._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS o SET work_order_id = v.work_order_id "  # noqa: S608
            "FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, work_order_id) WHERE o.id = v.id",
            [[o.pk for o in occurrences], [o.work_order_id for o in occurrences]],
        )


def _description(plan: PMPlan, occurrence: PMOccurrence) -> str:
    local = occurrence.due_at.astimezone(plan.tz)
    lines = [f"Preventive maintenance by plan “{plan.name}” (job plan {plan.job_plan.code})."]
    if occurrence.threshold is not None:
        lines.append(f"Meter threshold {occurrence.threshold} {plan.meter_code}.")
    lines.append(f"Due {local:%Y-%m-%d %H:%M %Z}.")
    if occurrence.late:
        lines.append(occurrence.reason)
    return "\n".join(lines)
