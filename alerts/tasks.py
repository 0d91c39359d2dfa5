"""Celery tasks for alerts: thin wrappers named after the services they call.

The registered names are the old ones (`alerts.dispatch` names them): messages in flight,
CELERY_TASK_ROUTES and the beat schedule refer to them.
"""

from celery import shared_task
from django.conf import settings

from alerts import dispatch, processing, sweeping


@shared_task(name=dispatch.PROCESS_ALERT, acks_late=True, ignore_result=True)
def alert_process(alert_id: int) -> None:
    """Process one stored alert (queue "alerts", routed in CELERY_TASK_ROUTES)."""
    processing.alert_process(alert_id=alert_id)


@shared_task(name=dispatch.PROCESS_ALERTS, acks_late=True, ignore_result=True)
def alerts_process(alert_ids: list[int]) -> None:
    """Process a chunk of stored alerts (queue "alerts"): one message for many alerts, so the
    broker round trips do not dominate; see `alerts.processing.alerts_process`."""
    processing.alerts_process(alert_ids=alert_ids)


@shared_task(name=dispatch.DISPATCH_CHUNKS, acks_late=True, ignore_result=True)
def alerts_dispatch_chunks(alert_ids: list[int]) -> int:
    """Fan a batch out into process messages of PROCESS_CHUNK alerts (queue "alerts"),
    so both processes of a worker node share the batch."""
    return dispatch.alerts_dispatch_chunks(alert_ids)


@shared_task(name=dispatch.SWEEP, ignore_result=True)
def alerts_sweep(max_batches: int = 10) -> int:
    """Dispatch again alerts left in the outbox (queue "housekeeping", every 30 s by beat)."""
    total, limit = 0, settings.ALERT_SWEEP_BATCH_SIZE
    for _ in range(max_batches):
        claimed = sweeping.alerts_sweep(limit=limit)
        total += claimed
        if claimed < limit:
            break
    return total
