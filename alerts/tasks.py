"""Celery tasks for alerts: thin wrappers that call services (see alerts.services)."""

from celery import shared_task
from django.conf import settings

from alerts import processing, services


@shared_task(acks_late=True, ignore_result=True)
def process_alert(alert_id: int) -> None:
    """Process one stored alert (queue "alerts", routed in CELERY_TASK_ROUTES)."""
    processing.process_alert(alert_id=alert_id)


@shared_task(acks_late=True, ignore_result=True)
def process_alerts(alert_ids: list[int]) -> None:
    """Process a chunk of stored alerts (queue "alerts"): one message for many alerts, so the
    broker round trips do not dominate; see `alerts.processing.process_alerts`."""
    processing.process_alerts(alert_ids=alert_ids)


@shared_task(acks_late=True, ignore_result=True)
def enqueue_alerts(alert_ids: list[int]) -> int:
    """Fan a batch out into process_alerts messages of PROCESS_CHUNK alerts (queue "alerts"),
    so both processes of a worker node share the batch."""
    return services.alerts_publish(alert_ids)


@shared_task(ignore_result=True)
def sweep_alerts(max_batches: int = 10) -> int:
    """Re-enqueue alerts left in the outbox (queue "housekeeping", every 30 s by beat)."""
    total, limit = 0, settings.ALERT_SWEEP_BATCH_SIZE
    for _ in range(max_batches):
        claimed = services.alerts_sweep(limit=limit)
        total += claimed
        if claimed < limit:
            break
    return total
