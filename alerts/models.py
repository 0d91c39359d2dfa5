from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone

from alerts.choices import AlertState, AlertStatus
from cmms.jsondepth import DepthSafeJSONField
from cmms.scoping import SiteScopedQuerySet
from pipeline.choices import Severity


class Alert(models.Model):
    """A condition alert from a gateway, stored once per (gateway, alert_id): the outbox row.
    The system raises some itself (no gateway; once per (site, alert_id)): the anomalies that
    condition monitoring finds in an asset's measurements.

    `status` starts `received`; the pipeline moves it on. `content_hash` tells a
    re-delivery (same content: duplicate) from a reuse of the id (other content: conflict).
    """

    site_lookup = "site"
    sync_resource = "alerts"

    # Empty for an alert the system raises itself (an anomaly condition monitoring found).
    gateway = models.ForeignKey(
        "gateways.Gateway",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="alerts",
    )
    site = models.ForeignKey("assets.Site", on_delete=models.PROTECT, related_name="alerts")
    alert_id = models.CharField(max_length=128)
    asset = models.ForeignKey(
        "assets.Asset", null=True, blank=True, on_delete=models.PROTECT, related_name="alerts"
    )
    asset_tag = models.CharField(max_length=64, help_text="The asset tag the gateway sent.")
    condition = models.CharField(max_length=64)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    state = models.CharField(max_length=10, choices=AlertState.choices, default=AlertState.ACTIVE)
    observed_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    value = models.FloatField(null=True, blank=True)
    unit = models.CharField(max_length=32, blank=True)
    threshold = models.FloatField(null=True, blank=True)
    message = models.TextField(blank=True)
    attributes = DepthSafeJSONField(default=dict, blank=True)
    content_hash = models.CharField(max_length=64, editable=False)
    status = models.CharField(
        max_length=10, choices=AlertStatus.choices, default=AlertStatus.RECEIVED
    )
    work_order = models.ForeignKey(
        "workorders.WorkOrder",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="alerts",
    )
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    # The ingest's INSERT leaves it to the column default (no extra statement); every UPDATE
    # moves it (sync/triggers.py).
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "alert_id"], name="alert_unique_per_gateway"
            ),
            models.UniqueConstraint(
                fields=["site", "alert_id"],
                condition=Q(gateway__isnull=True),
                name="alert_unique_per_site_raised",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in AlertStatus]), name="alert_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "received_at"], name="alert_outbox"),
            models.Index(fields=["site", "-received_at"], name="alert_site_recent"),
            models.Index(fields=["-received_at", "-id"], name="alert_recent"),  # every site's
            models.Index(fields=["asset", "condition"], name="alert_asset_condition"),
            models.Index(fields=["updated_at", "id"], name="alert_sync"),  # docs/sync.md
        ]

    def __str__(self):
        return f"{self.alert_id} {self.condition} {self.severity}"
