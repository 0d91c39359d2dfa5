"""Set what heartbeats and the fleet check would have recorded (test set-up only)."""

from datetime import timedelta

from django.utils import timezone

from gateways.choices import SensorState
from gateways.models import Gateway, Sensor


def seen(gateway, ago: timedelta | None, **health):
    """Set what a gateway's heartbeats would have recorded (test set-up only)."""
    last = None if ago is None else timezone.now() - ago
    Gateway.objects.filter(pk=gateway.pk).update(
        last_seen_at=last, last_heartbeat_at=last, **health
    )
    gateway.refresh_from_db()
    return gateway


def sensor_heard(sensor, *, state=SensorState.LIVE, ago=timedelta(minutes=1)):
    at = timezone.now() - ago
    Sensor.objects.filter(pk=sensor.pk).update(
        state=state, state_since=at, last_sample_at=at, last_reported_at=at
    )
    sensor.refresh_from_db()
    return sensor
