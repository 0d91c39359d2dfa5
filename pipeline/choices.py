from datetime import timedelta

from django.db import models

from workorders.choices import Priority


class Severity(models.TextChoices):
    """Alert severity as gateways send it (after ThingsBoard); critical is the highest.

    It lives with the alert rules, which are keyed on it (a rule's minimum severity, its
    response time per severity); alerts carry it.
    """

    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    WARNING = "warning"

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

PRIORITY_FOR_SEVERITY = {
    Severity.CRITICAL: Priority.EMERGENCY,
    Severity.MAJOR: Priority.HIGH,
    Severity.MINOR: Priority.MEDIUM,
    Severity.WARNING: Priority.LOW,
}

# Default policy (no rule matches): these severities open a work order awaiting approval;
# the others are recorded and open nothing.
DEFAULT_OPENING_SEVERITIES = frozenset({Severity.CRITICAL, Severity.MAJOR})
DEFAULT_RESPONSE = {
    Severity.CRITICAL: timedelta(hours=8),
    Severity.MAJOR: timedelta(hours=72),
    Severity.MINOR: timedelta(days=7),
    Severity.WARNING: timedelta(days=14),
}
