from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from sync.models import IdempotencyKey, Tombstone

# Keys deleted per statement: a backlog goes in short transactions, not one long lock.
PURGE_BATCH = 5000


def tombstones_prune(*, now: datetime | None = None) -> int:
    """Delete the tombstones older than the retention; returns how many went.

    A client whose last sync is older than the retention may have missed deletions and must
    reload in full (docs/sync.md).
    """
    cutoff = (now or timezone.now()) - timedelta(days=settings.SYNC_TOMBSTONE_RETENTION_DAYS)
    deleted, _ = Tombstone.objects.filter(deleted_at__lt=cutoff).delete()
    return deleted


def idempotency_keys_purge(*, now: datetime | None = None, batch: int = PURGE_BATCH) -> int:
    """Delete the idempotency keys older than `IDEMPOTENCY_KEY_TTL_HOURS`, `batch` at a
    time; returns how many went. A retry after that is applied again (docs/api.md)."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    expired = IdempotencyKey.objects.filter(created_at__lt=cutoff).order_by("created_at")
    total = 0
    while True:
        ids = list(expired.values_list("id", flat=True)[:batch])
        if not ids:
            return total
        deleted, _ = IdempotencyKey.objects.filter(id__in=ids).delete()
        total += deleted
