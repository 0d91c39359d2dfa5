"""Small reads for the planner pages that are not KPIs (those are in `workorders.selectors`)."""

from django.utils import timezone

from alerts.choices import AlertStatus
from alerts.models import Alert
from workorders.choices import Status
from workorders.models import WorkOrder


def index_counts(user) -> dict[str, int]:
    """What is burning, for the admin index: three counts over the user's sites."""
    work_orders = WorkOrder.objects.for_user(user)
    return {
        "requested": work_orders.filter(status=Status.REQUESTED).count(),
        "unmatched": Alert.objects.for_user(user).filter(status=AlertStatus.UNMATCHED).count(),
        "overdue": work_orders.overdue(timezone.now()).count(),
    }
