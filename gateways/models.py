import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cmms.fields import optional_foreign_key
from cmms.scoping import SiteScopedQuerySet
from gateways.choices import (
    DEFAULT_HEARTBEAT_GRACE_SECONDS,
    DEFAULT_HEARTBEAT_INTERVAL_SECONDS,
    DEFAULT_SENSOR_STALE_AFTER_SECONDS,
    Connectivity,
    SensorState,
)


class GatewayQuerySet(SiteScopedQuerySet):
    def with_connectivity(self, now, name: str = "status"):
        """Annotated with the connectivity at `now` (gateways.health), computed in the database."""
        from gateways.health import with_connectivity

        return with_connectivity(self, now, name)


# Shorter than this, a gateway that only sends alerts or readings (a sign of life recorded at
# most once a minute, judged by a check every minute) would flap offline and back.
MIN_SILENCE_SECONDS = 120
PERCENT = [MinValueValidator(0), MaxValueValidator(100)]
DBM = [MinValueValidator(-200), MaxValueValidator(50)]
TOPIC_LEVEL = RegexValidator(
    r"^[^/+#\s]+$", "One MQTT topic level: no slash, '+', '#' or white space."
)


class Gateway(models.Model):
    """An IIoT edge device at one site that posts signed data (alerts, meter readings).

    Its tables keep the names they had when gateways lived in `alerts` (`db_table`), so moving
    the model between apps changed no row.
    """

    site_lookup = "site"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    site = models.ForeignKey("assets.Site", on_delete=models.PROTECT, related_name="gateways")
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(
        default=True, help_text="A disabled gateway's requests are refused (401)."
    )
    rate_limit_per_minute = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Webhook requests per minute; empty: the GATEWAY_RATE_LIMIT_PER_MINUTE setting.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(null=True, blank=True, editable=False)

    # The gateway as equipment: an asset at its site (QR label, history, work orders), and the
    # hardware model its firmware target is set for.
    asset = models.OneToOneField(
        "assets.Asset",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="gateway",
        help_text="The asset this gateway is recorded as, at its site.",
    )
    model = models.CharField(
        max_length=100, blank=True, help_text="Hardware model (firmware targets are per model)."
    )

    # Health: what it should do, and what its heartbeats say.
    heartbeat_interval_seconds = models.PositiveIntegerField(
        default=DEFAULT_HEARTBEAT_INTERVAL_SECONDS,
        validators=[MinValueValidator(10), MaxValueValidator(7 * 86400)],
        help_text="How often the gateway sends a heartbeat; late once it is silent longer.",
    )
    heartbeat_grace_seconds = models.PositiveIntegerField(
        default=DEFAULT_HEARTBEAT_GRACE_SECONDS,
        validators=[MinValueValidator(0), MaxValueValidator(7 * 86400)],
        help_text="How much longer than the interval it may be silent before it is offline.",
    )
    connectivity = models.CharField(
        max_length=12,
        choices=Connectivity.choices,
        default=Connectivity.NEVER_SEEN,
        editable=False,
        help_text="The state the fleet check last recorded (see ConnectivityEvent).",
    )
    connectivity_since = models.DateTimeField(null=True, blank=True, editable=False)
    last_heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False)
    firmware = models.CharField(max_length=64, blank=True, editable=False)
    uptime_seconds = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    signal_dbm = models.SmallIntegerField(null=True, blank=True, editable=False, validators=DBM)
    battery_percent = models.PositiveSmallIntegerField(
        null=True, blank=True, editable=False, validators=PERCENT
    )
    # Sparkplug B identity (spBv1.0/{group}/NBIRTH/{edge node}): both or neither. Its devices
    # are the sensors whose `code` is the Sparkplug device id.
    sparkplug_group_id = models.CharField(
        "Sparkplug group id", max_length=64, blank=True, validators=[TOPIC_LEVEL]
    )
    sparkplug_edge_node_id = models.CharField(
        "Sparkplug edge node id", max_length=64, blank=True, validators=[TOPIC_LEVEL]
    )

    objects = GatewayQuerySet.as_manager()

    class Meta:
        db_table = "alerts_gateway"
        ordering = ["site", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["sparkplug_group_id", "sparkplug_edge_node_id"],
                condition=~Q(sparkplug_edge_node_id=""),
                name="gateway_unique_sparkplug_node",
                violation_error_message=(
                    "Another gateway already has this Sparkplug group and edge node id."
                ),
            ),
            models.CheckConstraint(
                condition=Q(sparkplug_group_id="", sparkplug_edge_node_id="")
                | (~Q(sparkplug_group_id="") & ~Q(sparkplug_edge_node_id="")),
                name="gateway_sparkplug_node_whole",
                violation_error_message=(
                    "A Sparkplug node needs both its group id and its edge node id."
                ),
            ),
        ]
        indexes = [
            # The fleet check: active gateways heard from at least once, by when.
            models.Index(
                fields=["last_seen_at"],
                condition=Q(is_active=True),
                name="gateway_active_last_seen",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if self.asset_id and self.site_id and self.asset.site_id != self.site_id:
            raise ValidationError({"asset": "The asset belongs to another site."})
        if self.sparkplug_group_id == "STATE":
            raise ValidationError(
                {"sparkplug_group_id": "STATE is reserved for host applications (spBv1.0/STATE)."}
            )
        if bool(self.sparkplug_group_id) != bool(self.sparkplug_edge_node_id):
            missing = "sparkplug_edge_node_id" if self.sparkplug_group_id else "sparkplug_group_id"
            raise ValidationError(
                {missing: "A Sparkplug node needs both its group id and its edge node id."}
            )
        silence = (self.heartbeat_interval_seconds or 0) + (self.heartbeat_grace_seconds or 0)
        if silence < MIN_SILENCE_SECONDS:
            raise ValidationError(
                {
                    "heartbeat_grace_seconds": (
                        f"Interval and grace together must be at least {MIN_SILENCE_SECONDS} s: "
                        "alerts and readings record a sign of life once a minute, and the "
                        "check runs every minute."
                    )
                }
            )

    @property
    def effective_rate_limit(self) -> int:
        """Requests per minute this gateway may send."""
        return self.rate_limit_per_minute or settings.GATEWAY_RATE_LIMIT_PER_MINUTE


class GatewaySecret(models.Model):
    """A signing secret of a gateway, encrypted at rest (see `gateways.gateway_secrets`).

    HMAC verification needs the key itself, so it cannot be hashed one-way; it is
    shown once at creation and never again. Every unretired secret verifies, which
    is how a rotation works without downtime.
    """

    site_lookup = "gateway__site"

    gateway = models.ForeignKey(Gateway, on_delete=models.CASCADE, related_name="secrets")
    encrypted = models.TextField(editable=False)
    fingerprint = models.CharField(
        max_length=16, editable=False, help_text="Identifies the secret without revealing it."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    retired_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        db_table = "alerts_gatewaysecret"
        ordering = ["gateway", "-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["gateway"], condition=Q(retired_at=None), name="gateway_secret_live"
            )
        ]

    def __str__(self):
        return f"secret {self.fingerprint}"


class Sensor(models.Model):
    """A sensor behind a gateway: what it measures and which asset it watches.

    `code` is the sensor's id as its gateway reports it (unique per gateway). An asset may be
    watched by several sensors; a sensor without an asset is reported but watches nothing yet.
    """

    site_lookup = "gateway__site"

    gateway = models.ForeignKey(Gateway, on_delete=models.CASCADE, related_name="sensors")
    code = models.CharField(max_length=64, help_text="The sensor's id in its gateway's reports.")
    name = models.CharField(max_length=200, blank=True)
    measures = models.CharField(
        max_length=64, blank=True, help_text="What it measures: vibration, temperature, ..."
    )
    unit = models.CharField(max_length=16, blank=True)
    asset = optional_foreign_key(
        "assets.Asset",
        on_delete=models.SET_NULL,
        related_name="sensors",
        help_text="The asset it watches, at the gateway's site.",
    )
    is_active = models.BooleanField(
        default=True, help_text="An inactive sensor is not checked and watches nothing."
    )
    stale_after_seconds = models.PositiveIntegerField(
        default=DEFAULT_SENSOR_STALE_AFTER_SECONDS,
        validators=[MinValueValidator(10), MaxValueValidator(30 * 86400)],
        help_text="Stale when its last sample is older than this.",
    )
    state = models.CharField(
        max_length=12, choices=SensorState.choices, default=SensorState.NEVER_SEEN, editable=False
    )
    state_since = models.DateTimeField(null=True, blank=True, editable=False)
    last_sample_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_reported_at = models.DateTimeField(null=True, blank=True, editable=False)
    signal_dbm = models.SmallIntegerField(null=True, blank=True, editable=False, validators=DBM)
    battery_percent = models.PositiveSmallIntegerField(
        null=True, blank=True, editable=False, validators=PERCENT
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        ordering = ["gateway", "code"]
        constraints = [
            models.UniqueConstraint(fields=["gateway", "code"], name="sensor_unique_per_gateway")
        ]

    def __str__(self):
        return self.name or self.code

    def clean(self):
        super().clean()
        if self.asset_id and self.gateway_id and self.asset.site_id != self.gateway.site_id:
            raise ValidationError({"asset": "The asset belongs to another site."})


class ConnectivityEvent(models.Model):
    """One transition of a gateway (`sensor` empty) or a sensor between health states.

    `silent_since` is the last sign of life the transition was judged from. Availability over
    a period is computed from these events (see fleet.availability).
    """

    site_lookup = "gateway__site"

    gateway = models.ForeignKey(
        Gateway, on_delete=models.CASCADE, related_name="connectivity_events"
    )
    sensor = optional_foreign_key(
        Sensor, on_delete=models.CASCADE, related_name="connectivity_events"
    )
    from_state = models.CharField(max_length=12)
    to_state = models.CharField(max_length=12)
    at = models.DateTimeField()
    silent_since = models.DateTimeField(null=True, blank=True)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["gateway", "sensor", "at"], name="connectivity_by_device")]

    def __str__(self):
        return f"{self.from_state} -> {self.to_state} at {self.at:%Y-%m-%d %H:%M}"


class BatterySample(models.Model):
    """A battery level of a gateway (`sensor` empty) or a sensor, kept at most every few hours
    (the FLEET_BATTERY_SAMPLE_EVERY_SECONDS setting): the trend that projects when it runs empty."""

    gateway = models.ForeignKey(Gateway, on_delete=models.CASCADE, related_name="battery_samples")
    sensor = optional_foreign_key(Sensor, on_delete=models.CASCADE, related_name="battery_samples")
    at = models.DateTimeField()
    percent = models.PositiveSmallIntegerField(validators=PERCENT)

    class Meta:
        ordering = ["gateway", "sensor", "at"]
        indexes = [models.Index(fields=["gateway", "sensor", "at"], name="battery_by_device")]

    def __str__(self):
        return f"{self.percent} % at {self.at:%Y-%m-%d %H:%M}"


class FirmwareTarget(models.Model):
    """The firmware version every gateway of a hardware model should run; older is work."""

    model = models.CharField(max_length=100, unique=True)
    version = models.CharField(max_length=64)
    notes = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["model"]

    def __str__(self):
        return f"{self.model} {self.version}"
