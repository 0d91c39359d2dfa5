"""Warning a site's planners before (and when) work breaches its contract's targets.

The beat runs `sla_warnings_send` every minute. It first brings the stored `sla_state` of open
work under a contract up to date (one UPDATE, computed in SQL from the stored moments), then
e-mails the site's planners once per threshold: a measure (response, resolution) turning at
risk, and turning breached. "Once" is the `SlaWarning` unique key (work order, measure, state,
due time): the warning row is inserted before the e-mail goes, in one transaction with it, so a
repeated or concurrent run that reaches the same threshold fails its insert (or waits for the
first run's commit, then fails) and sends nothing; a failed e-mail rolls its row back and the
next run tries again. A due time moved by a pause or a new priority is a new threshold.

Work orders are read through the `workorders.WorkOrder` model by name: this app sits below the
work order app and does not import it.
"""

from zoneinfo import ZoneInfo

from django.apps import apps
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from cmms.roles import Role
from contracts.choices import SlaMeasure, SlaState
from contracts.models import SlaWarning
from contracts.sla import MEASURES, sla_state_expression

# Work orders examined per run: a backlog of warnings drains over the next runs.
BATCH = 200


def _work_orders():
    return apps.get_model("workorders", "WorkOrder").objects


def sla_states_refresh(*, now) -> int:
    """Store the current SLA state of open work under a contract where it changed; returns
    how many rows changed."""
    expression = sla_state_expression(now)
    return (
        _work_orders()
        .open()
        .filter(contract__isnull=False)
        .alias(state_now=expression)
        .exclude(sla_state=F("state_now"))
        .update(sla_state=expression)
    )


def _unwarned_thresholds(now) -> Q:
    """Open work with a running measure past a threshold it was not warned about yet (at
    risk only while not yet breached: a measure found breached is warned as breached)."""
    condition = Q()
    for measure, (met, due, risk) in MEASURES.items():
        for state, reached in (
            (SlaState.AT_RISK, Q(**{f"{risk}__lte": now, f"{due}__gte": now})),
            (SlaState.BREACHED, Q(**{f"{due}__lt": now})),
        ):
            warned = SlaWarning.objects.filter(
                work_order=OuterRef("pk"), measure=measure, state=state, due_at=OuterRef(due)
            )
            condition |= Q(**{f"{met}__isnull": True}) & reached & ~Exists(warned)
    return condition


def thresholds_reached(work_order, now) -> list[tuple[str, str, object]]:
    """(measure, state, due time) of each running measure at or past a threshold."""
    reached = []
    for measure, (met, due, risk) in MEASURES.items():
        due_at = getattr(work_order, due)
        if getattr(work_order, met) is not None or due_at is None:
            continue
        if now > due_at:
            reached.append((measure, SlaState.BREACHED, due_at))
        elif getattr(work_order, risk) is not None and now >= getattr(work_order, risk):
            reached.append((measure, SlaState.AT_RISK, due_at))
    return reached


def planner_addresses(site_id: int) -> list[str]:
    """E-mail addresses of the active planners of the site."""
    return sorted(
        User.objects.filter(role=Role.PLANNER, sites=site_id, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )


def sla_warnings_send(*, now=None, batch: int = BATCH) -> int:
    """Refresh the stored states, then warn the planners of up to `batch` work orders about
    each threshold newly reached; returns the number of warnings sent."""
    now = now or timezone.now()
    sla_states_refresh(now=now)
    candidates = (
        _work_orders()
        .open()
        .filter(contract__isnull=False, sla_paused_since__isnull=True)
        .filter(_unwarned_thresholds(now))
        .select_related("site", "asset")
        .order_by("resolution_due_at", "pk")[:batch]
    )
    recipients_of: dict[int, list[str]] = {}
    sent = 0
    for work_order in candidates:
        if work_order.site_id not in recipients_of:
            recipients_of[work_order.site_id] = planner_addresses(work_order.site_id)
        for measure, state, due_at in thresholds_reached(work_order, now):
            if sla_warning_send(
                work_order=work_order,
                measure=measure,
                state=state,
                due_at=due_at,
                recipients=recipients_of[work_order.site_id],
            ):
                sent += 1
    return sent


def sla_warning_send(*, work_order, measure: str, state: str, due_at, recipients) -> bool:
    """Record the warning and e-mail it, in one transaction; False when it was already
    recorded (by an earlier or a concurrent run)."""
    try:
        with transaction.atomic():
            SlaWarning.objects.create(
                work_order=work_order,
                measure=measure,
                state=state,
                due_at=due_at,
                recipients=len(recipients),
            )
            if recipients:
                subject, body = warning_message(work_order, measure, state, due_at)
                send_mail(subject, body, None, recipients)
    except IntegrityError:
        return False
    return True


def warning_message(work_order, measure: str, state: str, due_at) -> tuple[str, str]:
    """The plain-text e-mail: what, which asset, due when (site's zone), where to act."""
    local_due = due_at.astimezone(ZoneInfo(work_order.site.timezone))
    what = SlaMeasure(measure).label.lower()
    verdict = "was due" if state == SlaState.BREACHED else "is due"
    label = SlaState(state).label
    asset = f"{work_order.asset.tag} {work_order.asset.name}" if work_order.asset else "-"
    link = settings.SITE_URL + reverse("admin:workorders_workorder_change", args=[work_order.pk])
    subject = f"[{work_order.site.code}] SLA {label.lower()}: {work_order.number} {what}"
    body = (
        f"{work_order.number} {work_order.title}\n\n"
        f"SLA {what}: {label}\n"
        f"The {what} {verdict} {local_due:%Y-%m-%d %H:%M %Z} ({work_order.site.timezone}).\n"
        f"Asset: {asset}\nPriority: {work_order.get_priority_display()}\n\n{link}\n"
    )
    return subject, body
