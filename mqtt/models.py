from django.db import models
from django.utils import timezone

from cmms.fields import optional_foreign_key
from cmms.scoping import SiteScopedQuerySet

MAX_TOPIC = 255
EXCERPT_BYTES = 500


class RejectedMessage(models.Model):
    """A broker message that can never be accepted (unknown gateway, bad body, undecodable
    Sparkplug payload), kept so planners can tell a gateway's integrator why its data is missing.

    The consumer acknowledges such a message (it would be refused again on every redelivery),
    so this row is all that is left of it. `excerpt` is the payload's first bytes as text (an
    undecodable byte becomes U+FFFD); `site` is the gateway's at the time, for scoping, and stays
    when the gateway is deleted. Rows without a site (no gateway could be named) are for
    superusers. Kept 30 days, at most a few rows per gateway a minute (`mqtt.records`).
    """

    site_lookup = "site"

    received_at = models.DateTimeField(default=timezone.now)
    gateway = optional_foreign_key(
        "gateways.Gateway", on_delete=models.SET_NULL, related_name="rejected_messages"
    )
    site = optional_foreign_key(
        "assets.Site", on_delete=models.SET_NULL, related_name="rejected_messages"
    )
    topic = models.CharField(max_length=MAX_TOPIC)
    reason = models.TextField()
    excerpt = models.TextField(blank=True, help_text=f"The first {EXCERPT_BYTES} bytes, as text.")
    size = models.PositiveIntegerField(help_text="The payload's size in bytes.")
    qos = models.PositiveSmallIntegerField(default=0)
    retain = models.BooleanField(default=False)
    # A flooding gateway gets at most `mqtt.records.ROWS_PER_MINUTE` rows a minute; the rest are
    # counted on its newest row, so storage stays bounded whatever it sends.
    repeats = models.PositiveIntegerField(
        default=0, help_text="Further rejected messages of the gateway counted on this row."
    )
    last_repeat_at = models.DateTimeField(null=True, blank=True)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["site", "-received_at"], name="rejected_message_by_site"),
            # The per-gateway bound: its rows of the last minute.
            models.Index(fields=["gateway", "-received_at"], name="rejected_message_by_gateway"),
            # Pruning: the oldest rows first, whatever their site.
            models.Index(fields=["received_at"], name="rejected_message_by_age"),
        ]

    def __str__(self):
        return f"{self.topic} at {self.received_at:%Y-%m-%d %H:%M:%S}"
