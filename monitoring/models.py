"""Stored measurements: the raw time series and its hourly aggregates (docs/monitoring.md).

On PostgreSQL `monitoring_measurement` is RANGE-partitioned by `at`, one partition a month
(`monitoring.partitions`), which is why its primary key includes `at`. The key is the natural
one, (asset, name, at, source): it is also the index every read uses (one asset's measurement
over a time range), and it makes a redelivered batch a no-op (`ON CONFLICT DO NOTHING`).
"""

from django.db import models

from cmms.scoping import SiteScopedQuerySet
from monitoring.choices import MeasurementSource


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

    asset = models.ForeignKey("assets.Asset", on_delete=models.CASCADE, related_name="+")
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
