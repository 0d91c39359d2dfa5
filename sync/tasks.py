"""Thin Celery tasks of the sync app."""

from celery import shared_task

from sync.services import idempotency_keys_purge, tombstones_prune


@shared_task(name="sync.tasks.prune_tombstones", soft_time_limit=300, time_limit=360)
def prune_tombstones() -> int:
    """Keep tombstones `SYNC_TOMBSTONE_RETENTION_DAYS` days (beat, every 6 hours)."""
    return tombstones_prune()


@shared_task(name="sync.tasks.purge_idempotency_keys", soft_time_limit=300, time_limit=360)
def purge_idempotency_keys() -> int:
    """Keep idempotency keys `IDEMPOTENCY_KEY_TTL_HOURS` hours (beat, hourly)."""
    return idempotency_keys_purge()
