from django.db import models


class AlertState(models.TextChoices):
    """The condition's state at the gateway."""

    ACTIVE = "active"
    CLEARED = "cleared"


class AlertStatus(models.TextChoices):
    """Where an alert is in our processing (the outbox status)."""

    RECEIVED = "received"
    PROCESSED = "processed", "Processed (linked to a work order)"
    RECORDED = "recorded", "Recorded (no work order by policy)"
    UNMATCHED = "unmatched", "Unmatched (unknown asset)"
    FAILED = "failed", "Failed (retrying)"


class ResultStatus(models.TextChoices):
    """Per-alert answer of the webhook."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    UNMATCHED = "unmatched"
