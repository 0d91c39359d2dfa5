"""Reads of condition assessment for the planners' pages."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from monitoring.choices import TrendStatus
from monitoring.models import MonitoredMeasurement
from workorders.choices import OPEN_STATUSES
from workorders.models import WorkOrder

PREDICTED_FAILURES_LIMIT = 20
PREDICTED_FAILURES_DEFINITION = (
    "Watched measurements whose trend reaches the alarm limit within the next 90 days, soonest "
    "first: the projected date of a robust (Theil-Sen) line over each measurement's window, with "
    "its 95 % band, and the work proposed for it. Assessed every 15 minutes from new values."
)
PREDICTION_SPAN = timedelta(days=90)


@dataclass
class PredictedFailure:
    monitored: MonitoredMeasurement
    work_order: WorkOrder | None

    @property
    def days_left(self) -> float:
        return (self.monitored.projected_at - self.monitored.assessed_at).total_seconds() / 86400


def predicted_failures(
    monitored, *, now: datetime, limit: int = PREDICTED_FAILURES_LIMIT
) -> list[PredictedFailure]:
    """The `monitored` measurements (a scoped queryset) projected to cross their alarm limit
    within PREDICTION_SPAN, soonest first, with their open proposal (two queries)."""
    rows = list(
        monitored.filter(
            enabled=True,
            trend_status=TrendStatus.APPROACHING,
            projected_at__isnull=False,
            projected_at__lte=now + PREDICTION_SPAN,
        )
        .select_related("asset", "site")
        .order_by("projected_at", "pk")[:limit]
    )
    if not rows:
        return []
    proposals = {
        (wo.asset_id, wo.condition): wo
        for wo in WorkOrder.objects.filter(
            asset_id__in={m.asset_id for m in rows},
            condition__in={m.condition_proposal for m in rows},
            status__in=OPEN_STATUSES,
        ).only("pk", "number", "status", "due_at", "asset_id", "condition")
    }
    return [PredictedFailure(m, proposals.get((m.asset_id, m.condition_proposal))) for m in rows]
