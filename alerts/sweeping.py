"""Sweeping: dispatching again the alerts the outbox still holds (a lost message, a failure).

Rows are claimed with SKIP LOCKED and pushed a grace period ahead, so several sweepers (and the
next runs) never dispatch the same alert twice meanwhile.
"""

from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from alerts.choices import AlertStatus
from alerts.dispatch import alerts_dispatch
from alerts.models import Alert


def alerts_sweep(
    *, now: datetime | None = None, grace_seconds: int | None = None, limit: int | None = None
) -> int:
    """Dispatch again a bounded batch of alerts stuck in the outbox, oldest first.

    Due: `received` for longer than the grace period, and `failed` whose next attempt is
    due. Rows are claimed with SKIP LOCKED and pushed one grace period ahead, so
    concurrent sweepers and the next runs do not dispatch them again meanwhile.
    Returns how many alerts were claimed.
    """
    now = now or timezone.now()
    grace = timedelta(
        seconds=settings.ALERT_SWEEP_GRACE_SECONDS if grace_seconds is None else grace_seconds
    )
    limit = limit or settings.ALERT_SWEEP_BATCH_SIZE
    due = (
        Q(status=AlertStatus.RECEIVED, received_at__lte=now - grace)
        & (Q(next_attempt_at=None) | Q(next_attempt_at__lte=now))
    ) | Q(status=AlertStatus.FAILED, next_attempt_at__lte=now)
    with transaction.atomic():
        ids = list(
            Alert.objects.filter(due)
            .order_by("received_at", "id")
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)[:limit]
        )
        if ids:
            Alert.objects.filter(id__in=ids).update(next_attempt_at=now + grace)
            transaction.on_commit(partial(alerts_dispatch, ids))
    return len(ids)
