"""Thin Celery tasks of the sync app."""

from celery import shared_task

from sync.services import tombstones_prune


@shared_task(name="sync.tasks.prune_tombstones", soft_time_limit=300, time_limit=360)
def prune_tombstones() -> int:
    """Keep tombstones `SYNC_TOMBSTONE_RETENTION_DAYS` days (beat, every 6 hours)."""
    return tombstones_prune()
