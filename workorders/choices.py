from django.db import models

from cmms.work import HoldReason, Priority  # noqa: F401  (named in cmms for the contracts)


class WorkOrderType(models.TextChoices):
    CORRECTIVE = "corrective"
    PREVENTIVE = "preventive"
    CONDITION_BASED = "condition_based", "Condition-based"
    INSPECTION = "inspection"


class Status(models.TextChoices):
    REQUESTED = "requested"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress", "In progress"
    ON_HOLD = "on_hold", "On hold"
    COMPLETED = "completed"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Source(models.TextChoices):
    MANUAL = "manual"
    REQUEST = "request", "Work request"
    ALERT = "alert", "Condition alert"
    PM = "pm", "Preventive maintenance plan"
    FLEET = "fleet", "IIoT fleet health"
    PREDICTION = "prediction", "Predicted failure (condition monitoring)"


class FailureCodeKind(models.TextChoices):
    FAILURE_CLASS = "class", "Failure class"
    PROBLEM = "problem"
    CAUSE = "cause"
    REMEDY = "remedy"


class EventKind(models.TextChoices):
    CREATED = "created"
    ASSIGNED = "assigned"
    SCHEDULED = "scheduled"
    PRIORITY = "priority", "Priority changed"
    NOTE = "note"
    ALERT = "alert"
    PARTS = "parts"
    CHECKLIST = "checklist"
    CONNECTIVITY = "connectivity"
    CLIENT_APPROVAL = "client_approval", "Client approval"
    SERVICE_LINE = "service_line", "External service"
    SIGNATURE = "signature", "Sign-off signature"
    SAFETY = "safety", "Safety step"
    PREDICTION = "prediction", "Predicted failure"


class SignatureRole(models.TextChoices):
    """Who signs a work order off at completion (docs/sign-off.md)."""

    TECHNICIAN = "technician"
    CLIENT = "client", "Client representative"


class StepKind(models.TextChoices):
    """What a checklist step is: a task of the job, or a safety step confirmed before the work
    starts (docs/safety.md)."""

    TASK = "task"
    LOCKOUT = "lockout", "Lockout/tagout"
    PERMIT = "permit", "Permit to work"


SAFETY_STEP_KINDS = frozenset({StepKind.LOCKOUT, StepKind.PERMIT})


class DeviceIssue(models.TextChoices):
    """What is wrong with a gateway or sensor that a fleet work order answers (at most one open
    work order per device and issue)."""

    GATEWAY_SILENT = "gateway_silent", "Gateway silent"
    SENSOR_STALE = "sensor_stale", "Sensor stale"
    BATTERY_LOW = "battery_low", "Battery low"
    FIRMWARE_OUTDATED = "firmware_outdated", "Firmware outdated"


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
