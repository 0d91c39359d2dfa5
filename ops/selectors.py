"""Reads for the probes and metrics: cheap aggregate queries, one per figure."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection
from django.db.models import Count, Min
from django.utils import timezone

from alerts.choices import AlertStatus
from alerts.models import Alert
from workorders.choices import OPEN_STATUSES
from workorders.models import WorkOrder

BACKLOG_STATUSES = (AlertStatus.RECEIVED, AlertStatus.FAILED, AlertStatus.UNMATCHED)
QUEUES = ("alerts", "default", "housekeeping")
BROKER_TIMEOUT_SECONDS = 1


class BrokerUnavailable(Exception):
    """The Celery broker did not answer within the timeout."""


def database_ping() -> None:
    """Raise DatabaseError unless `SELECT 1` answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def broker_configured() -> bool:
    return not settings.CELERY_TASK_ALWAYS_EAGER


def _redis_client():
    import redis

    return redis.Redis.from_url(
        settings.CELERY_BROKER_URL,
        socket_connect_timeout=BROKER_TIMEOUT_SECONDS,
        socket_timeout=BROKER_TIMEOUT_SECONDS,
    )


def _broker_is_redis() -> bool:
    return settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://", "unix://"))


def broker_ping() -> None:
    """Raise BrokerUnavailable unless the broker answers within a second."""
    try:
        if _broker_is_redis():
            _redis_client().ping()
            return
        from cmms.celery import app

        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
    except Exception as exc:
        raise BrokerUnavailable(f"{type(exc).__name__}: {exc}") from exc


def queue_lengths() -> dict[str, int] | None:
    """Messages waiting per Celery queue (Redis brokers only; None otherwise or when down)."""
    if not broker_configured() or not _broker_is_redis():
        return None
    try:
        client = _redis_client()
        with client.pipeline(transaction=False) as pipe:
            for queue in QUEUES:
                pipe.llen(queue)
            return dict(zip(QUEUES, pipe.execute(), strict=True))
    except Exception:
        return None


@dataclass
class AlertBacklog:
    counts: dict[str, int]
    oldest_received_at: datetime | None

    def oldest_age_seconds(self, now: datetime | None = None) -> float:
        if self.oldest_received_at is None:
            return 0.0
        return max(0.0, ((now or timezone.now()) - self.oldest_received_at).total_seconds())


def alert_backlog() -> AlertBacklog:
    """Alerts not finished, by status, and when the oldest still `received` or `failed` came in.

    Two queries on the (status, received_at) outbox index.
    """
    counts = dict.fromkeys(BACKLOG_STATUSES, 0)
    rows = Alert.objects.filter(status__in=BACKLOG_STATUSES).values("status")
    for row in rows.annotate(n=Count("id")).order_by():
        counts[row["status"]] = row["n"]
    oldest = Alert.objects.filter(status__in=(AlertStatus.RECEIVED, AlertStatus.FAILED)).aggregate(
        oldest=Min("received_at")
    )["oldest"]
    return AlertBacklog(counts={str(k): v for k, v in counts.items()}, oldest_received_at=oldest)


def open_work_orders_by_priority() -> dict[int, int]:
    rows = (
        WorkOrder.objects.filter(status__in=OPEN_STATUSES)
        .values("priority")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = dict.fromkeys((1, 2, 3, 4), 0)
    for row in rows:
        counts[row["priority"]] = row["n"]
    return counts
