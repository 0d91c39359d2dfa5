"""What the mqtt app does when a lower app tells it something (connected in MqttConfig.ready)."""

import logging

from django.conf import settings

from mqtt import tasks

logger = logging.getLogger(__name__)


def gateway_access_changed_enqueue_sync(sender, *, gateway_id, **kwargs) -> None:
    """Queue the reconciliation of the gateway's broker client (gateways.signals), when the
    system has a broker (MQTT_URL). Never raises: the change is committed already, and the
    reconciliation every 10 minutes repairs a message Celery's broker did not take."""
    if not settings.MQTT_URL:
        return
    try:
        tasks.sync_gateway_access.delay(str(gateway_id))
    except Exception:
        logger.warning(
            "Could not queue the broker access sync of gateway %s; the periodic reconciliation "
            "will make it.",
            gateway_id,
            exc_info=True,
        )
