from django.db import models


class Connectivity(models.TextChoices):
    """A gateway's health from its last sign of life (heartbeat, alert or reading).

    online: heard within its heartbeat interval; late: not heard for longer, but within the
    interval plus its grace; offline: silent for longer than interval + grace; never_seen:
    not heard from since it was registered.
    """

    ONLINE = "online"
    LATE = "late"
    OFFLINE = "offline"
    NEVER_SEEN = "never_seen", "Never seen"


class SensorState(models.TextChoices):
    """A sensor's health from its last sample time, as its gateway reports it.

    live: sampled within its `stale_after_seconds`; stale: not sampled for longer, or its
    gateway is offline; never_seen: no sample reported yet.
    """

    LIVE = "live"
    STALE = "stale"
    NEVER_SEEN = "never_seen", "Never seen"


# Defaults of a new gateway and sensor (each can be changed per device).
DEFAULT_HEARTBEAT_INTERVAL_SECONDS = 300
DEFAULT_HEARTBEAT_GRACE_SECONDS = 600
DEFAULT_SENSOR_STALE_AFTER_SECONDS = 3600
