"""Outbound events: endpoints integrators subscribe, the events (the outbox) and their
deliveries with every attempt."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q

from cmms.scoping import UserScopedQuerySet
from integrations.choices import DeliveryStatus, EventType

ERROR_MAX = 500
EXCERPT_MAX = 1024


class EndpointQuerySet(UserScopedQuerySet):
    def visible_to(self, user):
        """A user sees and manages their own endpoints only (superusers: all)."""
        return self.filter(owner=user)


class WebhookEndpoint(models.Model):
    """A URL an integrator receives signed events at, for some event types and sites."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list, help_text="EventType values subscribed to.")
    sites = models.ManyToManyField(
        "assets.Site",
        blank=True,
        related_name="+",
        help_text="None: every site the owner may see when the event happens.",
    )
    enabled = models.BooleanField(default=True)
    # Fernet ciphertext of the whsec_ secret (cmms.whsec); the plain secret is shown once.
    secret_encrypted = models.TextField(editable=False)
    secret_fingerprint = models.CharField(max_length=12, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)

    objects = EndpointQuerySet.as_manager()

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.url


class Event(models.Model):
    """Something that happened, written in the transaction of the change (the outbox)."""

    type = models.CharField(max_length=40, choices=EventType.choices)
    site = models.ForeignKey(
        "assets.Site", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # What the event is about, e.g. "work_order:123": deliveries of one subject to one
    # endpoint go out in order.
    subject = models.CharField(max_length=80)
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    occurred_at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"{self.type} {self.subject}"

    @property
    def webhook_id(self) -> str:
        """The webhook-id header: stable across retries and replays, so receivers dedupe."""
        return f"evt_{self.pk}"


class Delivery(models.Model):
    """One event to one endpoint: pending until a 2xx answer, failed after the last retry."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    # The event's subject, copied so the in-order check reads one table.
    subject = models.CharField(max_length=80)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    # A worker holds the delivery until then; a killed worker's lease simply runs out.
    locked_until = models.DateTimeField(null=True, blank=True)
    # Last time a message was queued for it, so the sweeper does not queue it again meanwhile.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=ERROR_MAX, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="one_delivery_per_endpoint")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_due",
                condition=Q(status=DeliveryStatus.PENDING),
            ),
            models.Index(
                fields=["endpoint", "subject", "id"],
                name="delivery_line",
                condition=Q(status=DeliveryStatus.PENDING),
            ),
        ]

    def __str__(self):
        return f"{self.event} -> {self.endpoint}"


class DeliveryAttempt(models.Model):
    """One POST of a delivery: when, the answer, how long it took (a bounded excerpt)."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts_log")
    at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=ERROR_MAX, blank=True)
    response_excerpt = models.CharField(max_length=EXCERPT_MAX, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error[:40]}"
