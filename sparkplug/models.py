"""The Sparkplug B host's memory of each edge node and device, the sequence gaps it saw, and the
planners' mapping of metrics to meters and threshold alerts."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from alerts.schema import CONDITION_RE
from cmms.fields import optional_foreign_key
from cmms.scoping import SiteScopedQuerySet
from pipeline.choices import Severity
from sparkplug.choices import SEQ_MODULO, Direction, MetricTarget

SEQ = [MaxValueValidator(SEQ_MODULO - 1)]
CONDITION = RegexValidator(
    f"^{CONDITION_RE.pattern}$", "1 to 64 characters of a-z, 0-9, '_', '.', '-' (as in alerts)."
)


class EdgeNodeSession(models.Model):
    """The current Sparkplug session of a gateway (its edge node): the bdSeq of its last
    NBIRTH, the last sequence number and payload timestamp heard, and the metric aliases the
    birth declared (data may name metrics by alias only).

    One row per gateway, locked while a message of the node is handled, so the messages of
    one node are applied one after the other.
    """

    site_lookup = "gateway__site"

    gateway = models.OneToOneField(
        "gateways.Gateway",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="sparkplug_session",
    )
    online = models.BooleanField(default=False)
    bd_seq = models.PositiveSmallIntegerField(
        "bdSeq", null=True, blank=True, validators=SEQ, help_text="Of the current birth."
    )
    seq = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=SEQ, help_text="The last sequence number heard."
    )
    last_timestamp = models.BigIntegerField(
        null=True, blank=True, help_text="The last payload timestamp heard (ms since epoch)."
    )
    birth_timestamp = models.BigIntegerField(
        null=True, blank=True, help_text="The current NBIRTH's payload timestamp (ms since epoch)."
    )
    born_at = models.DateTimeField(null=True, blank=True)
    died_at = models.DateTimeField(null=True, blank=True)
    # {"alias": "name"} and {"name": datatype number}, as the node's NBIRTH declared them.
    aliases = models.JSONField(default=dict, blank=True)
    datatypes = models.JSONField(default=dict, blank=True)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "edge node session"

    def __str__(self):
        state = "online" if self.online else "offline"
        return f"{self.gateway} ({state}, bdSeq {self.bd_seq})"


class DeviceSession(models.Model):
    """The current Sparkplug session of a device (a sensor of the gateway, `code` = device id):
    whether it is born, and the aliases its DBIRTH declared."""

    site_lookup = "sensor__gateway__site"

    sensor = models.OneToOneField(
        "gateways.Sensor",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="sparkplug_session",
    )
    online = models.BooleanField(default=False)
    born_at = models.DateTimeField(null=True, blank=True)
    died_at = models.DateTimeField(null=True, blank=True)
    aliases = models.JSONField(default=dict, blank=True)
    datatypes = models.JSONField(default=dict, blank=True)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "device session"

    def __str__(self):
        return f"{self.sensor} ({'online' if self.online else 'offline'})"


class SequenceGap(models.Model):
    """A message of an edge node whose sequence number was not the one expected: messages were
    lost or reordered between the node and the host (data may be missing for that span)."""

    site_lookup = "gateway__site"

    gateway = models.ForeignKey(
        "gateways.Gateway", on_delete=models.CASCADE, related_name="sparkplug_gaps"
    )
    expected = models.PositiveSmallIntegerField(validators=SEQ)
    got = models.PositiveSmallIntegerField(validators=SEQ)
    topic = models.CharField(max_length=300)
    at = models.DateTimeField()

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["gateway", "at"], name="sparkplug_gap_by_gateway")]

    def __str__(self):
        return f"expected {self.expected}, got {self.got} at {self.at:%Y-%m-%d %H:%M:%S}"

    @property
    def missed(self) -> int:
        """How many messages went missing, if the gap is a loss and not a replay."""
        return (self.got - self.expected) % SEQ_MODULO


class MetricMapping(models.Model):
    """What one Sparkplug metric of a gateway (an edge node metric, `sensor` empty) or of a
    sensor (a device metric) feeds: a meter's readings, or a threshold rule that raises a
    condition alert.

    A threshold rule has hysteresis: it raises once when the value reaches the threshold and
    not again until the value has gone back past the clear threshold (then it sends a cleared
    alert). Whether it is raised is kept here, so restarts and several consumers agree.
    """

    site_lookup = "gateway__site"

    gateway = models.ForeignKey(
        "gateways.Gateway", on_delete=models.CASCADE, related_name="sparkplug_metrics"
    )
    sensor = optional_foreign_key(
        "gateways.Sensor",
        on_delete=models.CASCADE,
        related_name="sparkplug_metrics",
        help_text="The device whose metric this is; empty: a metric of the edge node itself.",
    )
    metric = models.CharField(
        max_length=200, help_text="The metric's name as its birth declares it, e.g. Motor/Hours."
    )
    target = models.CharField(max_length=10, choices=MetricTarget.choices)
    is_active = models.BooleanField(default=True)

    meter = optional_foreign_key(
        "assets.Meter",
        on_delete=models.CASCADE,
        related_name="sparkplug_metrics",
        help_text="Meter readings: the meter the values are readings of.",
    )

    asset = optional_foreign_key(
        "assets.Asset",
        on_delete=models.CASCADE,
        related_name="sparkplug_rules",
        help_text="Threshold alert: the asset alerted on (default: the sensor's asset).",
    )
    condition = models.CharField(
        max_length=64,
        blank=True,
        validators=[CONDITION],
        help_text="Threshold alert: its condition, e.g. temp_high.",
    )
    severity = models.CharField(max_length=10, choices=Severity.choices, blank=True)
    direction = models.CharField(
        max_length=5, choices=Direction.choices, default=Direction.ABOVE, blank=True
    )
    threshold = models.FloatField(null=True, blank=True)
    clear_threshold = models.FloatField(
        null=True,
        blank=True,
        help_text="Raised again only after the value has gone back past this (hysteresis).",
    )
    raised = models.BooleanField(default=False, editable=False)
    raised_at = models.DateTimeField(null=True, blank=True, editable=False)
    cleared_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_value = models.FloatField(null=True, blank=True, editable=False)
    # The timestamp (ms) of the last sample the rule judged: an older or equal one (a replay)
    # is not judged again, so a replayed crossing cannot raise a cleared rule.
    last_sample_ms = models.BigIntegerField(null=True, blank=True, editable=False)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        ordering = ["gateway", "sensor", "metric"]
        indexes = [
            models.Index(fields=["gateway", "sensor", "metric"], name="sparkplug_metric_lookup")
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(target=MetricTarget.METER) | Q(meter__isnull=False),
                name="sparkplug_meter_mapping_has_meter",
            ),
            models.CheckConstraint(
                condition=~Q(target=MetricTarget.THRESHOLD)
                | (
                    Q(threshold__isnull=False, clear_threshold__isnull=False)
                    & Q(asset__isnull=False)
                    & ~Q(condition="")
                    & ~Q(severity="")
                    & (
                        Q(direction=Direction.ABOVE, clear_threshold__lt=models.F("threshold"))
                        | Q(direction=Direction.BELOW, clear_threshold__gt=models.F("threshold"))
                    )
                ),
                name="sparkplug_threshold_rule_whole",
            ),
        ]

    def __str__(self):
        where = self.sensor.code if self.sensor_id else "node"
        return f"{where} {self.metric} -> {self.get_target_display().lower()}"

    def clean(self):
        super().clean()
        errors = {}
        if self.sensor_id and self.gateway_id and self.sensor.gateway_id != self.gateway_id:
            errors["sensor"] = "The sensor is behind another gateway."
        if self.target == MetricTarget.METER:
            errors |= self._meter_errors()
        elif self.target == MetricTarget.THRESHOLD:
            errors |= self._threshold_errors()
        if errors:
            raise ValidationError(errors)

    def _site_id(self):
        return self.gateway.site_id if self.gateway_id else None

    def _meter_errors(self) -> dict:
        if not self.meter_id:
            return {"meter": "A meter mapping needs the meter its values are readings of."}
        if self._site_id() and self.meter.asset.site_id != self._site_id():
            return {"meter": "The meter is on an asset of another site than the gateway's."}
        return {}

    def _threshold_errors(self) -> dict:
        errors = {}
        if not self.asset_id and self.sensor_id and self.sensor.asset_id:
            self.asset = self.sensor.asset
        if not self.asset_id:
            errors["asset"] = "A threshold rule needs the asset it alerts on."
        elif self._site_id() and self.asset.site_id != self._site_id():
            errors["asset"] = "The asset belongs to another site than the gateway's."
        for name, what in (("condition", "condition"), ("severity", "severity")):
            if not getattr(self, name):
                errors[name] = f"A threshold rule needs a {what}."
        if not self.direction:
            errors["direction"] = "A threshold rule needs a direction."
        if self.threshold is None:
            errors["threshold"] = "A threshold rule needs a threshold."
        if self.clear_threshold is None:
            errors["clear_threshold"] = "A threshold rule needs a clear threshold."
        elif self.threshold is not None:
            errors |= self._hysteresis_errors()
        return errors

    def _hysteresis_errors(self) -> dict:
        if self.direction == Direction.ABOVE and not self.clear_threshold < self.threshold:
            return {
                "clear_threshold": "Alerting above the threshold, the clear threshold must be "
                "below it (the value must fall back under it before the rule raises again)."
            }
        if self.direction == Direction.BELOW and not self.clear_threshold > self.threshold:
            return {
                "clear_threshold": "Alerting below the threshold, the clear threshold must be "
                "above it (the value must rise back over it before the rule raises again)."
            }
        return {}

    def crosses(self, value: float) -> bool:
        """Whether `value` reaches the threshold (on the abnormal side, or at it)."""
        if self.direction == Direction.BELOW:
            return value <= self.threshold
        return value >= self.threshold

    def clears(self, value: float) -> bool:
        """Whether `value` is back past the clear threshold (or at it)."""
        if self.direction == Direction.BELOW:
            return value >= self.clear_threshold
        return value <= self.clear_threshold
