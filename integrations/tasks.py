"""Celery tasks of the integrations app: thin wrappers over `integrations.delivery`."""

from celery import shared_task

from integrations import delivery, dispatch


@shared_task(name=dispatch.SEND, acks_late=True, ignore_result=True)
def delivery_send(delivery_id: int) -> str:
    """POST one delivery if it is due and heads its line (queue "default")."""
    return delivery.delivery_send(delivery_id=delivery_id)


@shared_task(name=dispatch.SWEEP, ignore_result=True)
def deliveries_sweep() -> int:
    """Queue due deliveries whose message may be lost, and prune old events (queue
    "housekeeping", beat)."""
    delivery.events_prune()
    return delivery.deliveries_sweep()
