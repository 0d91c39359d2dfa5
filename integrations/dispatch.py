"""Handing deliveries to the workers; never raises.

The outbox is the delivery row itself (`pending`): a message lost to a broker outage costs only
time, because the sweeper (`integrations.delivery.deliveries_sweep`) queues due deliveries
again. Tasks are sent by their registered names (a contract with CELERY_TASK_ROUTES and the
beat schedule), so the services do not import `integrations.tasks` back.
"""

import logging

from celery import current_app

logger = logging.getLogger(__name__)

SEND = "integrations.tasks.delivery_send"
SWEEP = "integrations.tasks.deliveries_sweep"


def deliveries_enqueue(delivery_ids: list[int], *, countdown: float | None = None) -> int:
    """Queue one send message per delivery; returns how many were queued (0 when the broker
    is down: logged with the count, and the sweeper queues them later)."""
    sent = 0
    try:
        task = current_app.tasks[SEND]
        for delivery_id in delivery_ids:
            task.apply_async((delivery_id,), countdown=countdown)
            sent += 1
    except Exception as exc:
        logger.warning(
            "Could not enqueue %d of %d webhook deliveries (%s: %s); the sweeper will.",
            len(delivery_ids) - sent,
            len(delivery_ids),
            type(exc).__name__,
            exc,
        )
    return sent
