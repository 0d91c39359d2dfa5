"""Processing of stored alerts: rule, correlation, work order, scheduling, parts, notices.

The verbs, from the outside in:
- `alert_process` and `alerts_process` (one alert, a chunk) are what the Celery tasks call. A
  database outage propagates (the task retries and the sweeper covers it); any other error
  marks the alert `failed` with the error kept (`alert_mark_failed`), and the sweeper retries
  it with backoff.
- `alert_settle` decides one alert in one transaction and raises on any error;
  `alerts_settle_quiet` decides together the alerts of a chunk that lead to no work.

Settling is idempotent: it locks the alert row and does nothing unless the alert is still
`received` (or `failed` and due for a retry), so a redelivered task, a sweeper re-enqueue or a
second worker has the effect of running it once. Correlation (one open work order per asset and
condition) is enforced by a partial unique constraint; a worker that loses the race to create
attaches to the winner's work order. Which rule applies and who gets the work are the
pipeline's answers (`pipeline.selectors`).
"""

import logging
import traceback
from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from alerts.choices import AlertState, AlertStatus
from alerts.models import Alert
from alerts.outbound import FIELDS as ANNOUNCED_FIELDS
from alerts.outbound import MORE as MORE_ANNOUNCED_FIELDS
from alerts.outbound import alerts_settled_announce
from contracts import sla
from pipeline.choices import (
    DEFAULT_OPENING_SEVERITIES,
    DEFAULT_RESPONSE,
    PRIORITY_FOR_SEVERITY,
    Severity,
)
from pipeline.models import AlertRule
from pipeline.selectors import rule_for, site_rules, technician_for
from workorders import services as wo_services
from workorders.choices import OPEN_STATUSES, EventKind, Source, Status, WorkOrderType
from workorders.models import WorkOrder, WorkOrderEvent
from workorders.tasks import notify_assignee

log = logging.getLogger(__name__)

PROCESSABLE = (AlertStatus.RECEIVED, AlertStatus.FAILED)
MAX_ATTEMPTS = 10
BACKLOG_BATCH = 1000


# ---------------------------------------------------------------- processing: errors kept


def alert_process(*, alert_id: int) -> str | None:
    """Settle the alert with this id; returns its new status (None: nothing to do), "failed"
    when an error other than the database's was kept with the alert for a retry."""
    try:
        return alert_settle(alert_id=alert_id)
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:
        log.exception("processing alert %s failed", alert_id)
        alert_mark_failed(
            alert_id=alert_id, error="".join(traceback.format_exception_only(exc)).strip()
        )
        return "failed"


def alerts_process(*, alert_ids: list[int]) -> None:
    """Process a chunk: the quiet alerts (no work to open or join) settled together in one
    transaction, then each of the others in its own. If settling the chunk fails for a reason
    other than the database, every alert takes the one-by-one path, where an error stays with
    the alert that caused it."""
    try:
        rest = alerts_settle_quiet(alert_ids=alert_ids)
    except (OperationalError, InterfaceError):
        raise
    except Exception:
        log.exception("settling a chunk of %s alerts failed; one by one", len(alert_ids))
        rest = alert_ids
    for alert_id in rest:
        alert_process(alert_id=alert_id)


def alert_mark_failed(*, alert_id: int, error: str) -> None:
    """Record an unexpected processing error; the sweeper retries it with backoff."""
    with transaction.atomic():
        alert = (
            Alert.objects.select_for_update()
            .filter(pk=alert_id, status__in=PROCESSABLE)
            .only("id", "attempts")
            .first()
        )
        if alert is None:
            return
        attempts = alert.attempts + 1
        retry_in = min(timedelta(seconds=10 * 2**attempts), timedelta(hours=1))
        Alert.objects.filter(pk=alert_id).update(
            status=AlertStatus.FAILED,
            attempts=attempts,
            error=error[:4000],
            next_attempt_at=timezone.now() + retry_in if attempts < MAX_ATTEMPTS else None,
        )


# ---------------------------------------------------------------- settling


def alert_settle(*, alert_id: int) -> str | None:
    """Decide one alert in one transaction (open or join work as its rule says); returns its
    new status, or None if there was nothing to do. Raises on any error."""
    with transaction.atomic():
        _relax_commit_durability()
        # Whether work is open for the alert's asset and condition comes with the alert: most
        # alerts find none, and then need no second query to learn it.
        open_work = WorkOrder.objects.filter(
            asset_id=OuterRef("asset_id"), condition=OuterRef("condition"), status__in=OPEN_STATUSES
        )
        alert = (
            Alert.objects.select_for_update(of=("self",))
            .select_related("asset", "site")
            .annotate(has_open_work=Exists(open_work))
            .filter(pk=alert_id, status__in=PROCESSABLE)
            .first()
        )
        if alert is None:
            return None  # already processed by another worker, or unknown
        if alert.asset_id is None:
            status = AlertStatus.UNMATCHED
        elif alert.state == AlertState.CLEARED:
            status = _settle_cleared(alert)
        else:
            status = _settle_active(alert)
        alert.status = status
        alert.processed_at = timezone.now()
        alert.error = ""
        alert.next_attempt_at = None
        alert.save(
            update_fields=["status", "work_order", "processed_at", "error", "next_attempt_at"]
        )
        alerts_settled_announce([(alert, status)], work_order_id=alert.work_order_id)
        return status


def _relax_commit_durability() -> None:
    """Let this transaction commit without waiting for the WAL flush (PostgreSQL only).

    Safe here because everything it writes derives from the durably stored alert: if the
    server crashed before the flush, the alert would still be `received` and the sweeper would
    process it again (at worst, a technician's notice is sent twice).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


# ---------------------------------------------------------------- active and cleared alerts


def _open_work_order(alert: Alert, *, lock: bool, recheck: bool = False) -> WorkOrder | None:
    """The open work order of the alert's asset and condition. Unless `recheck`, trusts the
    `has_open_work` read with the alert: if none was open then, a work order opened since
    makes the creation fail on the unique index, and the caller rechecks."""
    if not recheck and getattr(alert, "has_open_work", True) is False:
        return None
    qs = WorkOrder.objects.filter(
        asset_id=alert.asset_id, condition=alert.condition, status__in=OPEN_STATUSES
    )
    if lock:
        qs = qs.select_for_update()
    return qs.first()


def _settle_active(alert: Alert) -> str:
    work_order = _open_work_order(alert, lock=True)
    if work_order is not None:
        _attach(work_order, [alert])
    else:
        rule = rule_for(alert)
        if not _opens_work(alert, rule):
            return AlertStatus.RECORDED
        try:
            work_order = _create_from_alert(alert, rule)
        except (IntegrityError, ValidationError):
            # Another worker opened the work order for this (asset, condition) first.
            work_order = _open_work_order(alert, lock=True, recheck=True)
            if work_order is None:
                raise
            _attach(work_order, [alert])
            _attach_backlog(work_order, alert)
        return AlertStatus.PROCESSED
    _attach_backlog(work_order, alert)
    return AlertStatus.PROCESSED


def _opens_work(alert: Alert, rule: AlertRule | None) -> bool:
    """Whether an active alert is severe enough to open a work order under its rule (or, with
    no rule, the default policy); a less severe one is only recorded."""
    if rule is None:
        return alert.severity in DEFAULT_OPENING_SEVERITIES
    return Severity.rank(alert.severity) >= Severity.rank(rule.min_severity)


def alerts_settle_quiet(*, alert_ids: list[int]) -> list[int]:
    """Settle in ONE transaction the alerts of a chunk that lead to no work: unmatched ones,
    and active ones not severe enough to open a work order while none is open for their asset
    and condition (they are `recorded`). Returns the ids left for `alert_process`, one
    transaction each: alerts that open or join work, cleared ones, and rows another worker
    holds (SKIP LOCKED).

    In a plant's everyday noise most alerts are of the quiet kind; settling a chunk of them
    costs a handful of queries instead of a handful per alert. The decisions are
    `alert_settle`'s, made on the same committed state.
    """
    with transaction.atomic():
        _relax_commit_durability()
        alerts = list(
            Alert.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("asset")
            .filter(pk__in=alert_ids, status__in=PROCESSABLE)
            .order_by("pk")
        )
        active = [a for a in alerts if a.asset_id is not None and a.state == AlertState.ACTIVE]
        open_keys = set(
            WorkOrder.objects.filter(
                asset_id__in={a.asset_id for a in active},
                condition__in={a.condition for a in active},
                status__in=OPEN_STATUSES,
            ).values_list("asset_id", "condition")
        )
        rules: dict[int, list[AlertRule]] = {}
        settled = {AlertStatus.UNMATCHED: [], AlertStatus.RECORDED: []}
        for alert in alerts:
            if alert.asset_id is None:
                settled[AlertStatus.UNMATCHED].append(alert.pk)
            elif alert.state == AlertState.ACTIVE and (alert.asset_id, alert.condition) not in (
                open_keys
            ):
                if alert.site_id not in rules:
                    rules[alert.site_id] = site_rules(alert.site_id)
                if not _opens_work(alert, rule_for(alert, rules=rules[alert.site_id])):
                    settled[AlertStatus.RECORDED].append(alert.pk)
        now = timezone.now()
        for status, ids in settled.items():
            if ids:
                Alert.objects.filter(pk__in=ids).update(
                    status=status, processed_at=now, error="", next_attempt_at=None
                )
        outcome = {pk: status for status, ids in settled.items() for pk in ids}
        alerts_settled_announce([(a, outcome[a.pk]) for a in alerts if a.pk in outcome])
    done = {pk for ids in settled.values() for pk in ids}
    return [pk for pk in alert_ids if pk not in done]


def _attach_backlog(work_order: WorkOrder, alert: Alert) -> None:
    """Attach, in this same transaction, the other waiting active alerts of the same
    (asset, condition): an alert storm drains in a few transactions instead of thousands.

    Rows another worker holds are skipped (SKIP LOCKED); their own tasks later find them
    processed and do nothing. Call while holding the work order's row lock.
    """
    backlog = list(
        Alert.objects.select_for_update(skip_locked=True)
        .filter(
            asset_id=alert.asset_id,
            condition=alert.condition,
            state=AlertState.ACTIVE,
            status=AlertStatus.RECEIVED,
        )
        .exclude(pk=alert.pk)
        .order_by("id")
        .only(*ANNOUNCED_FIELDS, *MORE_ANNOUNCED_FIELDS)[:BACKLOG_BATCH]
    )
    if not backlog:
        return
    _attach(work_order, backlog)
    Alert.objects.filter(pk__in=[a.pk for a in backlog]).update(
        status=AlertStatus.PROCESSED,
        work_order=work_order,
        processed_at=timezone.now(),
        error="",
        next_attempt_at=None,
    )
    alerts_settled_announce(
        [(a, AlertStatus.PROCESSED) for a in backlog], work_order_id=work_order.pk
    )


def _settle_cleared(alert: Alert) -> str:
    work_order = _open_work_order(alert, lock=True)
    if work_order is None:
        return AlertStatus.RECORDED
    alert.work_order = work_order
    _alert_event(
        work_order,
        alert,
        EventKind.ALERT,
        f"Condition {alert.condition} cleared by the gateway (alert {alert.alert_id}).",
        state=alert.state,
        observed_at=alert.observed_at.isoformat(),
    )
    rule = work_order.alert_rule
    if (
        rule
        and rule.cancel_on_clear
        and work_order.status
        in (
            Status.REQUESTED,
            Status.APPROVED,
            Status.SCHEDULED,
        )
    ):
        wo_services.work_order_transition(
            work_order=work_order,
            to=Status.CANCELLED,
            reason=f"Condition cleared before work started (rule {rule.name}).",
        )
    return AlertStatus.PROCESSED


def _attach(work_order: WorkOrder, alerts: list[Alert]) -> None:
    """Count active alerts on the open work order; escalate on a higher severity.

    Call while holding the work order's row lock; the caller saves the alerts' link.
    """
    observed = [a.observed_at for a in alerts]
    for alert in alerts:
        alert.work_order = work_order
    work_order.alert_count += len(alerts)
    work_order.first_alert_at = min(filter(None, [work_order.first_alert_at, *observed]))
    work_order.last_alert_at = max(filter(None, [work_order.last_alert_at, *observed]))
    fields = ["alert_count", "first_alert_at", "last_alert_at", "updated_at"]
    worst = max(alerts, key=lambda a: Severity.rank(a.severity))
    if Severity.rank(worst.severity) > Severity.rank(work_order.alert_severity):
        fields += _escalate(work_order, worst)
    work_order.save(update_fields=fields)


def _escalate(work_order: WorkOrder, alert: Alert) -> list[str]:
    old = {"severity": work_order.alert_severity, "priority": work_order.priority}
    old_due = work_order.due_at
    work_order.alert_severity = alert.severity
    work_order.priority = min(work_order.priority, PRIORITY_FOR_SEVERITY[alert.severity])
    new_due = alert.observed_at + _response_time(work_order.alert_rule, alert.severity)
    if work_order.due_at is None or new_due < work_order.due_at:
        work_order.due_at = new_due
    _alert_event(
        work_order,
        alert,
        EventKind.PRIORITY,
        (
            f"Escalated by a {alert.severity} alert ({alert.alert_id}): priority "
            f"{old['priority']} → {work_order.priority}, due "
            f"{old_due:%Y-%m-%d %H:%M} → {work_order.due_at:%Y-%m-%d %H:%M} UTC"
            if old_due
            else f"Escalated by a {alert.severity} alert: priority {work_order.priority}"
        ),
        **{"from": old, "to": {"severity": alert.severity, "priority": work_order.priority}},
    )
    fields = ["alert_severity", "priority", "due_at"]
    if work_order.priority != old["priority"] and work_order.contract_id is not None:
        # The contract's targets for the new priority: its SLA due times move with it.
        sla.clock_follow(work_order, now=timezone.now(), reschedule=True)
        fields += [field for field in sla.CLOCK_FIELDS if field not in fields]
    return fields


def _response_time(rule: AlertRule | None, severity: str) -> timedelta:
    return rule.response_time(severity) if rule else DEFAULT_RESPONSE[severity]


# ---------------------------------------------------------------- opening a work order


def _create_from_alert(alert: Alert, rule: AlertRule | None) -> WorkOrder:
    """Open the work order for an alert: priority and due date from severity, job plan copied,
    technician assigned, parts reserved, technician notified after commit.

    The technician is chosen before the insert, so the work order is written once.
    """
    job_plan = rule.job_plan if rule else None
    skill_id = job_plan.required_skill_id if job_plan else None
    technician = technician_for(site_id=alert.site_id, skill_id=skill_id)
    attention = [] if technician else ["no qualified technician available"]
    work_order = wo_services.work_order_create(
        **_work_order_fields(alert, rule, technician=technician, attention=attention)
    )
    alert.work_order = work_order
    _record_opening(work_order, alert, rule, technician=technician)
    if technician is not None:
        transaction.on_commit(lambda: _notify(work_order.pk))
    if job_plan is not None and not wo_services.work_order_reserve_parts(work_order=work_order):
        attention.append("waiting for parts")
        work_order.needs_attention = "; ".join(attention).capitalize()
        work_order.save(update_fields=["needs_attention", "waiting_for_parts", "updated_at"])
    return work_order


def _work_order_fields(alert: Alert, rule: AlertRule | None, *, technician, attention) -> dict:
    """The new work order's fields: what the alert says, shaped by its rule and job plan."""
    asset = alert.asset
    job_plan = rule.job_plan if rule else None
    due_at = alert.observed_at + _response_time(rule, alert.severity)
    estimated_hours = job_plan.estimated_hours if job_plan else Decimal("2")
    title = f"{alert.condition} on {asset.tag} ({alert.severity})"
    if job_plan is not None:
        title = f"{job_plan.title}: {asset.tag} {alert.condition}"
    return {
        "site": alert.site,
        "asset": asset,
        "title": title[:200],
        "description": _describe(alert),
        "status": Status.REQUESTED if rule is None or rule.requires_approval else Status.SCHEDULED,
        "source": Source.ALERT,
        "type": job_plan.work_type if job_plan else WorkOrderType.CONDITION_BASED,
        "priority": PRIORITY_FOR_SEVERITY[alert.severity],
        "due_at": due_at,
        "estimated_hours": estimated_hours,
        "required_skill_id": job_plan.required_skill_id if job_plan else None,
        "assignee": technician,
        "scheduled_start": _scheduled_start(due_at, estimated_hours) if technician else None,
        "needs_attention": "; ".join(attention).capitalize(),
        "job_plan": job_plan,
        "condition": alert.condition,
        "alert_rule": rule,
        "alert_count": 1,
        "alert_severity": alert.severity,
        "first_alert_at": alert.observed_at,
        "last_alert_at": alert.observed_at,
        "steps": wo_services.job_plan_steps(job_plan) if job_plan else (),
    }


def _record_opening(work_order: WorkOrder, alert: Alert, rule: AlertRule | None, *, technician):
    """The work order's first timeline entry: which alert opened it, by which rule, for whom."""
    source = f"rule “{rule.name}”" if rule else "the default policy (awaiting approval)"
    assigned = f" Assigned to {technician.get_username()}." if technician else ""
    _alert_event(
        work_order,
        alert,
        EventKind.CREATED,
        f"Opened from {alert.severity} alert {alert.alert_id} by {source}.{assigned}",
        rule=rule.pk if rule else None,
        assignee=technician.pk if technician else None,
    )


def _alert_event(work_order: WorkOrder, alert: Alert, kind: str, message: str, **data) -> None:
    """A timeline entry of the work order that names the alert it comes from."""
    WorkOrderEvent.objects.create(
        work_order=work_order, kind=kind, message=message, data={"alert": alert.pk, **data}
    )


def _scheduled_start(due_at, estimated_hours):
    """As soon as possible, but no later than the latest start that still meets the due date."""
    now = timezone.now()
    latest_start = due_at - timedelta(hours=float(estimated_hours or 0))
    return max(now, min(latest_start, now + timedelta(hours=1)))


def _describe(alert: Alert) -> str:
    lines = [f"{alert.severity.capitalize()} alert {alert.condition} on {alert.asset_tag}."]
    if alert.value is not None:
        reading = f"Value {alert.value:g}{(' ' + alert.unit) if alert.unit else ''}"
        if alert.threshold is not None:
            reading += f" (threshold {alert.threshold:g})"
        lines.append(reading + ".")
    if alert.message:
        lines.append(alert.message)
    return "\n".join(lines)


def _notify(work_order_id: int) -> None:
    try:
        notify_assignee.delay(work_order_id)
    except Exception:  # the broker is down: the work order is assigned anyway
        log.warning("could not enqueue the notice for work order %s", work_order_id, exc_info=True)
