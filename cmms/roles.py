"""The roles a person holds, named once for every app (the core and the feature apps alike).

A role decides what a user may do at their sites: planners plan and manage, technicians do the
field work, customer viewers read and request work. Code names a role by its constant here,
never by its string.
"""

from django.db import models


class Role(models.TextChoices):
    PLANNER = "planner"
    TECHNICIAN = "technician"
    CUSTOMER_VIEWER = "customer_viewer", "Customer viewer"
