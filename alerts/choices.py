from django.db import models


class AlertState(models.TextChoices):
    """The condition's state at the gateway."""

    ACTIVE = "active", "Active"
    CLEARED = "cleared", "Cleared"


class AlertStatus(models.TextChoices):
    """Where an alert is in our processing (the outbox status)."""

    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed (linked to a work order)"
    RECORDED = "recorded", "Recorded (no work order by policy)"
    UNMATCHED = "unmatched", "Unmatched (unknown asset)"
    FAILED = "failed", "Failed (retrying)"


class ResultStatus(models.TextChoices):
    """Per-alert answer of the webhook."""

    ACCEPTED = "accepted", "Accepted"
    DUPLICATE = "duplicate", "Duplicate"
    CONFLICT = "conflict", "Conflict"
    UNMATCHED = "unmatched", "Unmatched"
