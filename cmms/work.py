"""Words of work orders that apps below `workorders` need too, named once.

Contracts promise response and resolution times per priority and name the hold reasons that
pause their clock; both sit below the work order app (which asks them for its SLA dates), so
the two vocabularies live here and `workorders.choices` re-exports them.
"""

from django.db import models


class Priority(models.IntegerChoices):
    EMERGENCY = 1, "1 Emergency"
    HIGH = 2, "2 High"
    MEDIUM = 3, "3 Medium"
    LOW = 4, "4 Low"


class HoldReason(models.TextChoices):
    """Why work is on hold: a code for contracts and reports, beside the free-text reason."""

    WAITING_FOR_PARTS = "waiting_for_parts", "Waiting for parts"
    WAITING_FOR_CLIENT = "waiting_for_client", "Waiting for the client"
    WAITING_FOR_ACCESS = "waiting_for_access", "Waiting for access to the asset"
    WAITING_FOR_VENDOR = "waiting_for_vendor", "Waiting for a vendor"
    OTHER = "other"
