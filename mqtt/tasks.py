"""Celery tasks keeping gateways' broker access equal to the database (mqtt.access)."""

import logging
import random

from celery import shared_task
from django.conf import settings

from mqtt import access
from mqtt.dynsec import DynsecUnavailable

logger = logging.getLogger(__name__)

SYNC_GATEWAY_ACCESS = "mqtt.tasks.sync_gateway_access"
SYNC_ALL_GATEWAY_ACCESS = "mqtt.tasks.sync_all_gateway_access"
MAX_RETRIES = 12
# Below the Redis visibility timeout (CELERY_VISIBILITY_TIMEOUT, 300 s by default), so a retry
# waiting in a worker is not delivered a second time meanwhile (harmless, but useless).
MAX_BACKOFF_SECONDS = 240


def retry_countdown(retries: int) -> float:
    """Exponential backoff from 5 s, capped, with jitter so that many gateways' retries after
    a broker outage do not arrive together."""
    return min(5 * 2**retries, MAX_BACKOFF_SECONDS) * random.uniform(0.75, 1.0)


@shared_task(bind=True, name=SYNC_GATEWAY_ACCESS, acks_late=True, ignore_result=True)
def sync_gateway_access(self, gateway_id: str) -> None:
    """Reconcile one gateway's broker client and role; retried with backoff while the broker
    is unreachable (idempotent, so a repeated or late run does no harm)."""
    if not settings.MQTT_URL:
        return
    try:
        access.sync_gateway(gateway_id)
    except DynsecUnavailable as exc:
        if self.request.is_eager:
            # In-process (no Celery broker): retrying here would block the caller; the
            # periodic reconciliation repairs it.
            logger.warning("Broker access of gateway %s not synced: %s", gateway_id, exc)
            return
        countdown = retry_countdown(self.request.retries)
        logger.warning(
            "Broker access of gateway %s not synced, retrying in %.0f s: %s",
            gateway_id,
            countdown,
            exc,
        )
        raise self.retry(exc=exc, countdown=countdown, max_retries=MAX_RETRIES) from None


@shared_task(name=SYNC_ALL_GATEWAY_ACCESS, ignore_result=True)
def sync_all_gateway_access() -> None:
    """Reconcile every gateway (beat, every 10 minutes, when MQTT_URL is set): repairs what a
    lost message or a change behind the system's back left different."""
    if not settings.MQTT_URL:
        return
    try:
        result = access.sync_all_gateways()
    except DynsecUnavailable as exc:
        logger.warning("Gateways' broker access not reconciled: %s", exc)
        return
    for gateway_id, made in result.changes.items():
        logger.info("Broker access of gateway %s repaired: %s.", gateway_id, "; ".join(made))
