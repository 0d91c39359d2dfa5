from django.db import models


class SlaState(models.TextChoices):
    """Where a work order stands against its contract's targets (the worse of response and
    resolution). Work outside any contract has none ("")."""

    ON_TRACK = "on_track", "On track"
    AT_RISK = "at_risk", "At risk"
    BREACHED = "breached"


class SlaClock(models.TextChoices):
    """What a target's hours count: the site's business hours, or every hour of the week."""

    BUSINESS = "business", "Business hours"
    CALENDAR = "calendar", "Around the clock (24/7)"


class SlaMeasure(models.TextChoices):
    """The two promises a contract makes per priority."""

    RESPONSE = "response"
    RESOLUTION = "resolution"


class ClientApproval(models.TextChoices):
    """The client's decision on work estimated above the contract's not-to-exceed amount."""

    NOT_REQUIRED = "", "Not required"
    PENDING = "pending", "Waiting for the client"
    APPROVED = "approved"
    REJECTED = "rejected"


WEEKDAYS = ((0, "Mon"), (1, "Tue"), (2, "Wed"), (3, "Thu"), (4, "Fri"), (5, "Sat"), (6, "Sun"))


# The work a contract's response and resolution targets apply to: reactive work (a failure, a
# condition found). Planned work (preventive, inspection) is under the contract too (billing,
# approval) but has no SLA clock: PM compliance judges it, against its planned due date.
# Values of workorders.choices.WorkOrderType (contracts cannot import it; a test keeps them).
SLA_WORK_TYPES = frozenset({"corrective", "condition_based"})
