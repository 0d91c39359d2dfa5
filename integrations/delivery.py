"""Delivering events: claim, send signed, record, retry with backoff, keep endpoints healthy.

A delivery is claimed with a conditional UPDATE that sets a lease (`locked_until`): only a
pending, due delivery with a free lease and no earlier pending delivery of the same subject to
the same endpoint can be claimed, so one work order's events reach an endpoint in order and
two workers never send the same delivery at once. A worker killed mid-send leaves the lease to
run out; the sweeper then queues the delivery again (at least once: receivers dedupe on
webhook-id, the event's id).
"""

import logging
import time
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.template.loader import render_to_string
from django.utils import timezone

from cmms import whsec
from cmms.errors import ConflictError
from integrations import dispatch, selectors, sending
from integrations.choices import DeliveryStatus
from integrations.models import ERROR_MAX, Delivery, DeliveryAttempt, Event, WebhookEndpoint
from integrations.services import endpoint_secret
from integrations.urlguard import UrlRefused, check_url

log = logging.getLogger(__name__)

PENDING, DELIVERED, FAILED = DeliveryStatus.PENDING, DeliveryStatus.DELIVERED, DeliveryStatus.FAILED


def _head_of_line() -> Q:
    """No earlier delivery of the same subject to the same endpoint is still pending."""
    earlier = Delivery.objects.filter(
        endpoint_id=OuterRef("endpoint_id"),
        subject=OuterRef("subject"),
        status=PENDING,
        id__lt=OuterRef("id"),
    )
    return ~Q(Exists(earlier))


def _due(now: datetime) -> Q:
    return Q(status=PENDING, next_attempt_at__lte=now) & (
        Q(locked_until=None) | Q(locked_until__lte=now)
    )


def delivery_claim(*, delivery_id: int, now: datetime) -> datetime | None:
    """Take the lease on a due delivery at the head of its line; returns the lease (the
    claim's token) or None when it is not ours to send now."""
    lease = now + timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)
    claimed = Delivery.objects.filter(_due(now), _head_of_line(), pk=delivery_id).update(
        locked_until=lease
    )
    return lease if claimed else None


def delivery_send(*, delivery_id: int) -> str:
    """Send one delivery if it is ours to send now; returns what happened (for logs/tests):
    "skipped", "delivered", "retry", "failed" or "dropped"."""
    now = timezone.now()
    lease = delivery_claim(delivery_id=delivery_id, now=now)
    if lease is None:
        return "skipped"
    delivery = selectors.delivery_to_send(delivery_id=delivery_id)
    if delivery is None:
        return "skipped"  # its endpoint was deleted meanwhile
    refusal = selectors.delivery_refusal(delivery)
    if refusal:
        _finish(delivery, lease, status=FAILED, error=refusal, now=now, attempted=False)
        return "dropped"
    answer = _attempt(delivery, now)
    return _record(delivery, lease, answer)


def _attempt(delivery: Delivery, now: datetime) -> sending.Answer:
    """One signed POST to the endpoint's checked address (the SSRF rule again: DNS may have
    changed since the endpoint was saved)."""
    try:
        target = check_url(delivery.endpoint.url)
    except UrlRefused as exc:
        return sending.Answer(None, 0, error=str(exc))
    try:
        secret = endpoint_secret(delivery.endpoint)
    except whsec.SecretUnreadable as exc:
        return sending.Answer(None, 0, error=f"{exc} Rotate the endpoint's secret.")
    event = delivery.event
    body = sending.body_for(type=event.type, occurred_at=event.occurred_at, data=event.payload)
    headers = sending.signed_headers(
        secret=secret, msg_id=event.webhook_id, body=body, now=time.time()
    )
    return sending.post(target=target, body=body, headers=headers)


def _record(delivery: Delivery, lease: datetime, answer: sending.Answer) -> str:
    """Log the attempt, then settle the delivery and the endpoint's health (a success in one
    transaction: one commit a delivery)."""
    now = timezone.now()
    attempt = DeliveryAttempt(
        delivery=delivery,
        at=now,
        status_code=answer.status_code,
        duration_ms=answer.duration_ms,
        error=answer.error[:ERROR_MAX],
        response_excerpt=answer.excerpt,
    )
    if answer.ok:
        with transaction.atomic():
            attempt.save()
            _finish(delivery, lease, status=DELIVERED, code=answer.status_code, now=now)
            if delivery.endpoint.failing_since is not None:
                _endpoint_healthy(delivery.endpoint_id)
        return "delivered"
    attempt.save()
    error = answer.error or f"HTTP {answer.status_code}"
    schedule = settings.WEBHOOK_RETRY_SCHEDULE
    attempts = delivery.attempts + 1
    # Health first: a retry queued below may run at once (eager) and succeed.
    disabled = _endpoint_failing(delivery.endpoint_id, now, sending=delivery.pk)
    if attempts > len(schedule) or disabled:
        _finish(delivery, lease, status=FAILED, code=answer.status_code, error=error, now=now)
        return "failed"
    delay = schedule[attempts - 1]
    _retry_later(delivery, lease, delay=delay, code=answer.status_code, error=error, now=now)
    return "retry"


def _finish(delivery, lease, *, status, now, code=None, error="", attempted=True) -> None:
    """Settle a claimed delivery for good, then queue the next one of its line."""
    updated = Delivery.objects.filter(pk=delivery.pk, locked_until=lease).update(
        status=status,
        attempts=F("attempts") + (1 if attempted else 0),
        locked_until=None,
        last_status_code=code,
        last_error=error[:ERROR_MAX],
        delivered_at=now if status == DELIVERED else None,
    )
    if updated:
        _enqueue_next(delivery.endpoint_id, delivery.subject)


def _retry_later(delivery, lease, *, delay: int, code, error: str, now: datetime) -> None:
    """Schedule the next attempt. Short waits are queued now with a countdown (and marked
    queued, so the sweeper leaves them alone for a sweep period); longer ones are the
    sweeper's: due dates live in the database, not in long ETA messages."""
    soon = delay < settings.WEBHOOK_SWEEP_SECONDS
    Delivery.objects.filter(pk=delivery.pk, locked_until=lease).update(
        attempts=F("attempts") + 1,
        locked_until=None,
        next_attempt_at=now + timedelta(seconds=delay),
        enqueued_at=now if soon else None,
        last_status_code=code,
        last_error=error[:ERROR_MAX],
    )
    if soon:
        dispatch.deliveries_enqueue([delivery.pk], countdown=delay)


def _enqueue_next(endpoint_id: int, subject: str) -> None:
    """Queue the delivery that now heads the (endpoint, subject) line, if any."""
    next_id = (
        Delivery.objects.filter(endpoint_id=endpoint_id, subject=subject, status=PENDING)
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )
    if next_id is not None:  # after commit: until then this one still heads the line
        transaction.on_commit(partial(dispatch.deliveries_enqueue, [next_id]))


def _endpoint_healthy(endpoint_id: int) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint_id, failing_since__isnull=False).update(
        failing_since=None
    )


def _endpoint_failing(endpoint_id: int, now: datetime, *, sending: int) -> bool:
    """Note the first failure; disable the endpoint (once) when it has failed for longer than
    WEBHOOK_DISABLE_AFTER_HOURS, drop its pending deliveries and tell its owner."""
    WebhookEndpoint.objects.filter(pk=endpoint_id, failing_since=None).update(failing_since=now)
    limit = now - timedelta(hours=settings.WEBHOOK_DISABLE_AFTER_HOURS)
    reason = f"Failing since more than {settings.WEBHOOK_DISABLE_AFTER_HOURS} hours."
    with transaction.atomic():
        disabled = WebhookEndpoint.objects.filter(
            pk=endpoint_id, enabled=True, failing_since__lte=limit
        ).update(enabled=False, disabled_at=now, disabled_reason=reason)
        if not disabled:
            return False
        pending = Delivery.objects.filter(endpoint_id=endpoint_id, status=PENDING)
        pending.exclude(pk=sending).update(
            status=FAILED, locked_until=None, last_error="The endpoint was disabled."
        )
        transaction.on_commit(partial(endpoint_disabled_notify, endpoint_id=endpoint_id))
    return True


def endpoint_disabled_notify(*, endpoint_id: int) -> None:
    """E-mail the owner that their endpoint was disabled (no address: nobody)."""
    endpoint = WebhookEndpoint.objects.select_related("owner").get(pk=endpoint_id)
    if not endpoint.owner.email:
        return
    context = {"endpoint": endpoint, "site_url": settings.SITE_URL}
    send_mail(
        subject=f"Webhook endpoint disabled: {endpoint.url}"[:200],
        message=render_to_string("integrations/endpoint_disabled.txt", context),
        from_email=None,
        recipient_list=[endpoint.owner.email],
    )


def deliveries_sweep(*, now: datetime | None = None, limit: int = 500) -> int:
    """Queue again the due deliveries at the head of their lines whose message may be lost
    (queued longer than a sweep ago, or a lease run out). Rows are claimed with SKIP LOCKED
    and marked queued, so concurrent sweepers do not queue the same delivery twice."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.WEBHOOK_SWEEP_SECONDS)
    with transaction.atomic():
        ids = list(
            Delivery.objects.filter(_due(now), _head_of_line())
            .filter(Q(enqueued_at=None) | Q(enqueued_at__lte=stale) | Q(locked_until__lte=now))
            .order_by("next_attempt_at", "id")
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("id", flat=True)[:limit]
        )
        if ids:
            Delivery.objects.filter(pk__in=ids).update(enqueued_at=now)
            transaction.on_commit(partial(dispatch.deliveries_enqueue, ids))
    return len(ids)


def delivery_replay(*, delivery: Delivery) -> Delivery:
    """Send a delivery again (whatever its status): pending, due now, queued after commit.
    The receiver sees the same webhook-id as before. Not while a worker is sending it (its
    lease held): that would be a second send at the same time."""
    now = timezone.now()
    with transaction.atomic():
        replayed = (
            Delivery.objects.filter(pk=delivery.pk)
            .filter(Q(locked_until=None) | Q(locked_until__lte=now))
            .update(status=PENDING, next_attempt_at=now, locked_until=None, enqueued_at=now)
        )
        if not replayed:
            raise ConflictError("This delivery is being sent right now; replay it afterwards.")
        transaction.on_commit(partial(dispatch.deliveries_enqueue, [delivery.pk]))
    delivery.refresh_from_db()
    return delivery


def events_prune(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Delete a bounded batch of events older than WEBHOOK_KEEP_DAYS with no pending delivery
    (their deliveries and attempts go with them), so the log does not grow without end."""
    now = now or timezone.now()
    old = now - timedelta(days=settings.WEBHOOK_KEEP_DAYS)
    pending = Delivery.objects.filter(event_id=OuterRef("pk"), status=PENDING)
    ids = list(
        Event.objects.filter(occurred_at__lt=old)
        .filter(~Q(Exists(pending)))
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    Event.objects.filter(pk__in=ids).delete()
    return len(ids)
