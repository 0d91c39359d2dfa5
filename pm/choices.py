from django.db import models

from workorders.choices import Status


class Scope(models.TextChoices):
    ASSET = "asset", "One asset"
    SUBTREE = "subtree", "An asset and everything below it"
    EQUIPMENT_CLASS = "equipment_class", "All assets of an equipment class at the site"


class Trigger(models.TextChoices):
    CALENDAR = "calendar"
    METER = "meter"


class IntervalUnit(models.TextChoices):
    DAY = "day", "Days"
    WEEK = "week", "Weeks"
    MONTH = "month", "Months"


class Anchor(models.TextChoices):
    FIXED = "fixed", "Fixed schedule (due dates do not drift)"
    FLOATING = "floating", "From the last completion (floating)"


class OccurrenceStatus(models.TextChoices):
    GENERATED = "generated", "Work order generated"
    SKIPPED = "skipped"


class WorkOrderStatus(models.TextChoices):
    """The status a generated PM work order starts in."""

    APPROVED = Status.APPROVED.value, Status.APPROVED.label
    SCHEDULED = Status.SCHEDULED.value, Status.SCHEDULED.label


class ReadingResult(models.TextChoices):
    """Per-item answer of the gateway readings webhook."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate", "Duplicate (already stored)"
    CONFLICT = "conflict", "Conflict (same reading_id, different content)"
    REFUSED = "refused"
    UNMATCHED = "unmatched", "Unmatched (unknown asset or meter)"


class CheckKind(models.TextChoices):
    CHECK = "check", "Check (pass or fail)"
    READING = "reading", "Reading (a value with limits)"


class RunStatus(models.TextChoices):
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed"
    MISSED = "missed"


OPEN_RUN_STATUSES = (RunStatus.SCHEDULED, RunStatus.IN_PROGRESS)
