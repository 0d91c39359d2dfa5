from datetime import timedelta

from alerts.choices import Severity
from workorders.choices import Priority

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
