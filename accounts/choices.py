from django.db import models


class Role(models.TextChoices):
    PLANNER = "planner", "Planner"
    TECHNICIAN = "technician", "Technician"
    CUSTOMER_VIEWER = "customer_viewer", "Customer viewer"
