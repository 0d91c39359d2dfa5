from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from sync.models import Tombstone


def tombstones_prune(*, now: datetime | None = None) -> int:
    """Delete the tombstones older than the retention; returns how many went.

    A client whose last sync is older than the retention may have missed deletions and must
    reload in full (docs/sync.md).
    """
    cutoff = (now or timezone.now()) - timedelta(days=settings.SYNC_TOMBSTONE_RETENTION_DAYS)
    deleted, _ = Tombstone.objects.filter(deleted_at__lt=cutoff).delete()
    return deleted
