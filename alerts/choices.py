from django.db import models


class Severity(models.TextChoices):
    """Alert severity as gateways send it (after ThingsBoard); critical is the highest."""

    CRITICAL = "critical", "Critical"
    MAJOR = "major", "Major"
    MINOR = "minor", "Minor"
    WARNING = "warning", "Warning"

    @classmethod
    def rank(cls, value: str) -> int:
        """A number to compare severities: critical 4 > major 3 > minor 2 > warning 1; else 0."""
        return _SEVERITY_RANK.get(value, 0)


_SEVERITY_RANK = {
    Severity.CRITICAL: 4,
    Severity.MAJOR: 3,
    Severity.MINOR: 2,
    Severity.WARNING: 1,
}


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
