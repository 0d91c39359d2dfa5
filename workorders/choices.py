from django.db import models


class WorkOrderType(models.TextChoices):
    CORRECTIVE = "corrective", "Corrective"
    PREVENTIVE = "preventive", "Preventive"
    CONDITION_BASED = "condition_based", "Condition-based"
    INSPECTION = "inspection", "Inspection"


class Priority(models.IntegerChoices):
    EMERGENCY = 1, "1 Emergency"
    HIGH = 2, "2 High"
    MEDIUM = 3, "3 Medium"
    LOW = 4, "4 Low"


class Status(models.TextChoices):
    REQUESTED = "requested", "Requested"
    APPROVED = "approved", "Approved"
    SCHEDULED = "scheduled", "Scheduled"
    IN_PROGRESS = "in_progress", "In progress"
    ON_HOLD = "on_hold", "On hold"
    COMPLETED = "completed", "Completed"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


class Source(models.TextChoices):
    MANUAL = "manual", "Manual"
    REQUEST = "request", "Work request"
    ALERT = "alert", "Condition alert"
    PM = "pm", "Preventive maintenance plan"


class FailureCodeKind(models.TextChoices):
    FAILURE_CLASS = "class", "Failure class"
    PROBLEM = "problem", "Problem"
    CAUSE = "cause", "Cause"
    REMEDY = "remedy", "Remedy"


class EventKind(models.TextChoices):
    CREATED = "created", "Created"
    ASSIGNED = "assigned", "Assigned"
    SCHEDULED = "scheduled", "Scheduled"
    PRIORITY = "priority", "Priority changed"
    NOTE = "note", "Note"
    ALERT = "alert", "Alert"
    PARTS = "parts", "Parts"
    CHECKLIST = "checklist", "Checklist"


OPEN_STATUSES = frozenset(
    {Status.REQUESTED, Status.APPROVED, Status.SCHEDULED, Status.IN_PROGRESS, Status.ON_HOLD}
)
FINAL_STATUSES = frozenset({Status.CLOSED, Status.CANCELLED})

# The enforced lifecycle (after Maximo): from-status -> statuses it may move to.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.REQUESTED: frozenset({Status.APPROVED, Status.CANCELLED}),
    Status.APPROVED: frozenset({Status.SCHEDULED, Status.CANCELLED}),
    Status.SCHEDULED: frozenset({Status.IN_PROGRESS, Status.CANCELLED}),
    Status.IN_PROGRESS: frozenset({Status.ON_HOLD, Status.COMPLETED, Status.CANCELLED}),
    Status.ON_HOLD: frozenset({Status.IN_PROGRESS, Status.CANCELLED}),
    Status.COMPLETED: frozenset({Status.CLOSED, Status.IN_PROGRESS}),
    Status.CLOSED: frozenset(),
    Status.CANCELLED: frozenset(),
}

# Transitions that only planners (or the system) may make; technicians do the field work.
PLANNER_ONLY_TRANSITIONS = frozenset(
    {
        (Status.REQUESTED, Status.APPROVED),
        (Status.APPROVED, Status.SCHEDULED),
        (Status.COMPLETED, Status.CLOSED),
        (Status.COMPLETED, Status.IN_PROGRESS),
    }
    | {(s, Status.CANCELLED) for s in OPEN_STATUSES}
)

# Work types that need problem/cause/remedy codes before they can be completed.
FAILURE_CODES_REQUIRED = frozenset({WorkOrderType.CORRECTIVE, WorkOrderType.CONDITION_BASED})
