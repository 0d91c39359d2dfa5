"""Thin Celery tasks of monitoring: measurement partitions, hourly aggregates, retention."""

from celery import shared_task

from monitoring.services import (
    measurement_partitions_ensure,
    measurements_aggregate,
    measurements_expire,
)


@shared_task(name="monitoring.tasks.ensure_measurement_partitions", acks_late=True)
def ensure_measurement_partitions() -> list[str]:
    """Create the coming months' measurement partitions (Celery beat, daily; idempotent)."""
    return measurement_partitions_ensure()


@shared_task(name="monitoring.tasks.aggregate_measurements", acks_late=True)
def aggregate_measurements() -> int:
    """Recompute the recent hourly aggregates (Celery beat, every 10 minutes; idempotent)."""
    return measurements_aggregate()


@shared_task(name="monitoring.tasks.expire_measurements", acks_late=True)
def expire_measurements() -> dict:
    """Drop expired raw values and hourly aggregates (Celery beat, every 6 hours)."""
    result = measurements_expire()
    return {
        "partitions_dropped": result.partitions_dropped,
        "raw_deleted": result.raw_deleted,
        "hours_deleted": result.hours_deleted,
    }
