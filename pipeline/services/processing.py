"""Turning condition alerts into work: rule matching, correlation, scheduling, parts, notices.

`alert_process` is what the Celery task `process_alert` calls. It is idempotent: it locks the
alert row and does nothing unless the alert is still `received` (or `failed` and due for a retry),
so a redelivered task, a sweeper re-enqueue or a second worker has the effect of running it once.
Correlation (one open work order per asset and condition) is enforced by a partial unique
constraint; a worker that loses the race to create attaches to the winner's work order.
"""

import logging
from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts.models import User
from alerts.choices import AlertState, AlertStatus, Severity
from alerts.models import Alert
from cmms.roles import Role
from pipeline.choices import DEFAULT_OPENING_SEVERITIES, DEFAULT_RESPONSE, PRIORITY_FOR_SEVERITY
from pipeline.models import AlertRule
from workorders import services as wo_services
from workorders.choices import OPEN_STATUSES, EventKind, Source, Status, WorkOrderType
from workorders.models import WorkOrder, WorkOrderEvent

log = logging.getLogger(__name__)

PROCESSABLE = (AlertStatus.RECEIVED, AlertStatus.FAILED)
MAX_ATTEMPTS = 10
BACKLOG_BATCH = 1000


# ---------------------------------------------------------------- entry points


def alert_process(*, alert_id: int) -> str | None:
    """Process one alert; returns its new status, or None if there was nothing to do."""
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
            status = _process_cleared(alert)
        else:
            status = _process_active(alert)
        alert.status = status
        alert.processed_at = timezone.now()
        alert.error = ""
        alert.next_attempt_at = None
        alert.save(
            update_fields=["status", "work_order", "processed_at", "error", "next_attempt_at"]
        )
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


# ---------------------------------------------------------------- rules


def site_rules(site_id: int) -> list[AlertRule]:
    """The active rules that may apply at a site: its own and the global ones."""
    return list(
        AlertRule.objects.filter(is_active=True)
        .filter(Q(site__isnull=True) | Q(site_id=site_id))
        .select_related("job_plan")
    )


def rule_for(alert: Alert, *, rules: list[AlertRule] | None = None) -> AlertRule | None:
    """The most specific active rule matching the alert's asset and condition (deterministic);
    `rules` are the site's rules when the caller has them already (see `site_rules`)."""
    candidates = site_rules(alert.site_id) if rules is None else rules
    matching = [
        rule
        for rule in candidates
        if rule.matches(asset=alert.asset, condition=alert.condition, severity=alert.severity)
    ]
    if not matching:
        return None
    return max(matching, key=lambda rule: rule.specificity(alert.asset))


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


def _process_active(alert: Alert) -> str:
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
    `alert_process`'s, made on the same committed state.
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
        .only("id", "alert_id", "severity", "observed_at")[:BACKLOG_BATCH]
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


def _process_cleared(alert: Alert) -> str:
    work_order = _open_work_order(alert, lock=True)
    if work_order is None:
        return AlertStatus.RECORDED
    alert.work_order = work_order
    WorkOrderEvent.objects.create(
        work_order=work_order,
        kind=EventKind.ALERT,
        message=f"Condition {alert.condition} cleared by the gateway (alert {alert.alert_id}).",
        data={
            "alert": alert.pk,
            "state": alert.state,
            "observed_at": alert.observed_at.isoformat(),
        },
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
    WorkOrderEvent.objects.create(
        work_order=work_order,
        kind=EventKind.PRIORITY,
        message=(
            f"Escalated by a {alert.severity} alert ({alert.alert_id}): priority "
            f"{old['priority']} → {work_order.priority}, due "
            f"{old_due:%Y-%m-%d %H:%M} → {work_order.due_at:%Y-%m-%d %H:%M} UTC"
            if old_due
            else f"Escalated by a {alert.severity} alert: priority {work_order.priority}"
        ),
        data={
            "alert": alert.pk,
            "from": old,
            "to": {"severity": alert.severity, "priority": work_order.priority},
        },
    )
    return ["alert_severity", "priority", "due_at"]


def _response_time(rule: AlertRule | None, severity: str) -> timedelta:
    return rule.response_time(severity) if rule else DEFAULT_RESPONSE[severity]


# ---------------------------------------------------------------- opening a work order


def _create_from_alert(alert: Alert, rule: AlertRule | None) -> WorkOrder:
    """Open the work order for an alert: priority and due date from severity, job plan copied,
    technician assigned, parts reserved, technician notified after commit.

    The technician is chosen before the insert, so the work order is written once.
    """
    asset = alert.asset
    job_plan = rule.job_plan if rule else None
    due_at = alert.observed_at + _response_time(rule, alert.severity)
    estimated_hours = job_plan.estimated_hours if job_plan else Decimal("2")
    skill_id = job_plan.required_skill_id if job_plan else None
    technician = technician_for(site_id=alert.site_id, skill_id=skill_id)
    attention = [] if technician else ["no qualified technician available"]
    title = f"{alert.condition} on {asset.tag} ({alert.severity})"
    if job_plan is not None:
        title = f"{job_plan.title}: {asset.tag} {alert.condition}"
    work_order = wo_services.work_order_create(
        site=alert.site,
        asset=asset,
        title=title[:200],
        description=_describe(alert),
        status=Status.REQUESTED if rule is None or rule.requires_approval else Status.SCHEDULED,
        source=Source.ALERT,
        type=job_plan.work_type if job_plan else WorkOrderType.CONDITION_BASED,
        priority=PRIORITY_FOR_SEVERITY[alert.severity],
        due_at=due_at,
        estimated_hours=estimated_hours,
        required_skill_id=skill_id,
        assignee=technician,
        scheduled_start=_scheduled_start(due_at, estimated_hours) if technician else None,
        needs_attention="; ".join(attention).capitalize(),
        job_plan=job_plan,
        condition=alert.condition,
        alert_rule=rule,
        alert_count=1,
        alert_severity=alert.severity,
        first_alert_at=alert.observed_at,
        last_alert_at=alert.observed_at,
        steps=wo_services.job_plan_steps(job_plan) if job_plan else (),
    )
    alert.work_order = work_order
    source = f"rule “{rule.name}”" if rule else "the default policy (awaiting approval)"
    assigned = f" Assigned to {technician.get_username()}." if technician else ""
    WorkOrderEvent.objects.create(
        work_order=work_order,
        kind=EventKind.CREATED,
        message=f"Opened from {alert.severity} alert {alert.alert_id} by {source}.{assigned}",
        data={
            "alert": alert.pk,
            "rule": rule.pk if rule else None,
            "assignee": technician.pk if technician else None,
        },
    )
    if technician is not None:
        transaction.on_commit(lambda: _notify(work_order.pk))
    if job_plan is not None and not wo_services.work_order_reserve_parts(work_order=work_order):
        attention.append("waiting for parts")
        work_order.needs_attention = "; ".join(attention).capitalize()
        work_order.save(update_fields=["needs_attention", "waiting_for_parts", "updated_at"])
    return work_order


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


def technician_for(*, site_id: int, skill_id: int | None) -> User | None:
    """The least loaded active technician at the site with the required skill (one query).

    Load is the estimated hours of the technician's open work orders (index on assignee,
    status). Written in SQL because it runs once per new work order on the alert pipeline's
    hot path, where building the equivalent ORM query cost more than running it.
    """
    user, sites, skills, work_order = (
        User._meta.db_table,
        User.sites.through._meta.db_table,
        User.skills.through._meta.db_table,
        WorkOrder._meta.db_table,
    )
    statuses = sorted(OPEN_STATUSES)
    skill_join = f"JOIN {skills} sk ON sk.user_id = u.id AND sk.skill_id = %s" if skill_id else ""
    sql = f"""
        SELECT u.*, COALESCE((
            SELECT SUM(w.estimated_hours) FROM {work_order} w
            WHERE w.assignee_id = u.id AND w.status IN ({", ".join(["%s"] * len(statuses))})
        ), 0) AS load
        FROM {user} u
        JOIN {sites} us ON us.user_id = u.id AND us.site_id = %s
        {skill_join}
        WHERE u.role = %s AND u.is_active
        ORDER BY load, u.id
        LIMIT 1
    """  # noqa: S608 (table names come from the models; values are parameters)
    params = [*statuses, site_id, *([skill_id] if skill_id else []), Role.TECHNICIAN]
    return next(iter(User.objects.raw(sql, params)), None)


def _notify(work_order_id: int) -> None:
    from pipeline.tasks import notify_assignee

    try:
        notify_assignee.delay(work_order_id)
    except Exception:  # the broker is down: the work order is assigned anyway
        log.warning("could not enqueue the notice for work order %s", work_order_id, exc_info=True)
