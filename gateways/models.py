import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cmms.scoping import SiteScopedQuerySet


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

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        db_table = "alerts_gateway"
        ordering = ["site", "name"]

    def __str__(self):
        return self.name

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
