"""Stored measurements: the raw time series and its hourly aggregates (docs/monitoring.md).

On PostgreSQL `monitoring_measurement` is RANGE-partitioned by `at`, one partition a month
(`monitoring.partitions`), which is why its primary key includes `at`. The key is the natural
one, (asset, name, at, source): it is also the index every read uses (one asset's measurement
over a time range), and it makes a redelivered batch a no-op (`ON CONFLICT DO NOTHING`).
"""

import math

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from cmms.scoping import SiteScopedQuerySet
from monitoring.choices import Direction, MeasurementSource, TrendStatus


class MeasurementQuerySet(SiteScopedQuerySet):
    pass


class Measurement(models.Model):
    """One value of an asset's measurement at an instant, with its unit and where it came from.

    `site` is the asset's, copied when the row is written: scoping and per-site filters need no
    join with the asset table (assets do not move between sites).
    """

    site_lookup = "site"

    pk = models.CompositePrimaryKey("asset_id", "name", "at", "source")
    asset = models.ForeignKey("assets.Asset", on_delete=models.CASCADE, related_name="+")
    site = models.ForeignKey("assets.Site", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    # As long as an alert's unit, so every alert's value can be kept as sent.
    unit = models.CharField(max_length=32, blank=True)
    value = models.FloatField()
    at = models.DateTimeField()
    source = models.CharField(max_length=10, choices=MeasurementSource.choices)

    objects = MeasurementQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.name}={self.value}{self.unit} at {self.at:%Y-%m-%d %H:%M:%S}"


class MeasurementHourQuerySet(SiteScopedQuerySet):
    pass


class MeasurementHour(models.Model):
    """An hour of one asset's measurement: count, min, max, sum (mean = sum / count), last value.

    Recomputed from the raw rows by `measurements_aggregate`, so it outlives them (hourly rows
    are kept for years, raw ones for weeks).
    """

    site_lookup = "site"

    # No index of its own: the unique (asset, name, hour) index serves every read by asset.
    asset = models.ForeignKey(
        "assets.Asset", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    site = models.ForeignKey("assets.Site", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    hour = models.DateTimeField()
    unit = models.CharField(max_length=32, blank=True)
    count = models.PositiveIntegerField()
    min = models.FloatField()
    max = models.FloatField()
    sum = models.FloatField()
    last_value = models.FloatField()
    last_at = models.DateTimeField()

    objects = MeasurementHourQuerySet.as_manager()

    class Meta:
        constraints = [
            # On PostgreSQL its index carries what a series reads (INCLUDE: migration 0004),
            # so a series is read from the index alone.
            models.UniqueConstraint(
                fields=["asset", "name", "hour"], name="measurement_hour_unique"
            ),
        ]
        indexes = [models.Index(fields=["hour"], name="measurement_hour_hour")]

    def __str__(self) -> str:
        return f"{self.name} at {self.hour:%Y-%m-%d %H:00}: {self.count} values"

    @property
    def mean(self) -> float:
        """The hour's mean value."""
        return self.sum / self.count


# No physical limit is larger; bounded, differences of limits and values stay finite.
LIMIT_BOUND = 1e15


class MonitoredMeasurementQuerySet(SiteScopedQuerySet):
    pass


class MonitoredMeasurement(models.Model):
    """An asset's measurement the system watches: its alarm limit and its latest assessment.

    Planners set the limits (admin, API); `condition.assessment` keeps the rest: the last value,
    the trend over the window and the projected crossing of the alarm limit, and how far
    anomalies have been looked for (`anomalies_through`, so each is raised once).
    """

    site_lookup = "site"

    asset = models.ForeignKey("assets.Asset", on_delete=models.CASCADE, related_name="+")
    site = models.ForeignKey("assets.Site", on_delete=models.CASCADE, related_name="+")
    # The stored measurements' name. At most 56 characters: the anomaly alert's condition
    # (`anomaly.<name>`) and the proposal's (`trend.<name>`) must fit a condition's 64.
    name = models.CharField(max_length=56)
    unit = models.CharField(max_length=32, blank=True)
    direction = models.CharField(max_length=5, choices=Direction.choices, default=Direction.ABOVE)
    alarm_limit = models.FloatField(
        help_text="The value at which the asset needs work: the trend's projected crossing "
        "is of this limit."
    )
    warning_limit = models.FloatField(
        null=True, blank=True, help_text="Drawn on the trend chart; optional."
    )
    healthy_level = models.FloatField(
        null=True,
        blank=True,
        help_text="The value of the asset in good condition. With it, the trend fit may follow "
        "exponential wear, and the health score measures how far from it the asset is.",
    )
    window_days = models.PositiveSmallIntegerField(
        default=21,
        validators=[MinValueValidator(2), MaxValueValidator(90)],
        help_text="The days of values the trend is fitted to.",
    )
    horizon_days = models.PositiveSmallIntegerField(
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="A crossing projected within this many days proposes a work order.",
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # The latest assessment (kept by condition.assessment, never edited by hand).
    assessed_at = models.DateTimeField(null=True, blank=True, editable=False)
    anomalies_through = models.DateTimeField(null=True, blank=True, editable=False)
    last_value = models.FloatField(null=True, blank=True, editable=False)
    last_at = models.DateTimeField(null=True, blank=True, editable=False)
    trend_status = models.CharField(
        max_length=12,
        choices=TrendStatus.choices,
        default=TrendStatus.INSUFFICIENT,
        editable=False,
    )
    slope_per_day = models.FloatField(null=True, blank=True, editable=False)
    projected_at = models.DateTimeField(null=True, blank=True, editable=False)
    projected_earliest = models.DateTimeField(null=True, blank=True, editable=False)
    projected_latest = models.DateTimeField(null=True, blank=True, editable=False)

    # The fields the assessment keeps (never written by hand).
    ASSESSMENT_FIELDS = (
        "assessed_at",
        "last_value",
        "last_at",
        "trend_status",
        "slope_per_day",
        "projected_at",
        "projected_earliest",
        "projected_latest",
        "anomalies_through",
    )

    objects = MonitoredMeasurementQuerySet.as_manager()

    class Meta:
        ordering = ["asset", "name"]
        constraints = [
            models.UniqueConstraint(fields=["asset", "name"], name="monitored_measurement_unique"),
        ]
        indexes = [
            # The dashboard's predicted failures: projected crossings, soonest first.
            models.Index(
                fields=["site", "projected_at"],
                condition=models.Q(projected_at__isnull=False),
                name="monitored_projected",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} of asset {self.asset_id}"

    def clean(self):
        errors = {}
        for field in ("alarm_limit", "warning_limit", "healthy_level"):
            value = getattr(self, field)
            if value is not None and not (math.isfinite(value) and abs(value) <= LIMIT_BOUND):
                errors[field] = f"Must be a number between {-LIMIT_BOUND:g} and {LIMIT_BOUND:g}."
        if errors:
            raise ValidationError(errors)
        for field in ("warning_limit", "healthy_level"):
            value = getattr(self, field)
            if value is None or self.alarm_limit is None:
                continue
            beyond = value >= self.alarm_limit
            if self.direction == Direction.BELOW:
                beyond = value <= self.alarm_limit
            if beyond:
                side = "below" if self.direction == Direction.ABOVE else "above"
                errors[field] = f"Must lie {side} the alarm limit ({self.alarm_limit:g})."
        if (
            self.warning_limit is not None
            and self.healthy_level is not None
            and "warning_limit" not in errors
            and "healthy_level" not in errors
        ):
            between = self.healthy_level < self.warning_limit
            if self.direction == Direction.BELOW:
                between = self.healthy_level > self.warning_limit
            if not between:
                errors["warning_limit"] = "Must lie between the healthy level and the alarm limit."
        if errors:
            raise ValidationError(errors)

    @property
    def condition_proposal(self) -> str:
        """The condition of the work order a projected crossing proposes."""
        return f"trend.{self.name}"

    @property
    def condition_anomaly(self) -> str:
        """The condition of the alert an anomaly raises."""
        return f"anomaly.{self.name}"


class Prediction(models.Model):
    """A work order proposed from a projected crossing, with the evidence it was proposed on.

    One row per proposed work order; `evidence` is rewritten as new data moves the projection
    (each change also goes on the work order's timeline). At most one proposal is open per
    (asset, measurement): the work order's condition (`trend.<name>`) falls under the work
    orders' one-open-per-(asset, condition) constraint.
    """

    site_lookup = "site"

    monitored = models.ForeignKey(
        MonitoredMeasurement, on_delete=models.CASCADE, related_name="predictions"
    )
    site = models.ForeignKey("assets.Site", on_delete=models.CASCADE, related_name="+")
    work_order = models.OneToOneField(
        "workorders.WorkOrder", on_delete=models.CASCADE, related_name="prediction"
    )
    projected_at = models.DateTimeField()
    projected_earliest = models.DateTimeField()
    projected_latest = models.DateTimeField()
    evidence = models.JSONField(default=dict)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.monitored} crosses its limit about {self.projected_at:%Y-%m-%d}"
