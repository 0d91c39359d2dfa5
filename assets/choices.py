from django.db import models


class Criticality(models.TextChoices):
    A = "A", "A (high)"
    B = "B", "B (medium)"
    C = "C", "C (low)"


class AssetState(models.TextChoices):
    OPERATING = "operating", "Operating"
    DEGRADED = "degraded", "Degraded"
    DOWN = "down", "Down"
    DECOMMISSIONED = "decommissioned", "Decommissioned"


class AssetLevel(models.TextChoices):
    AREA = "area", "Area"
    LINE = "line", "Line / system"
    EQUIPMENT = "equipment", "Equipment unit"
    COMPONENT = "component", "Component"


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", "Receipt"
    ISSUE = "issue", "Issue to work order"
    RETURN = "return", "Return from work order"
    ADJUSTMENT = "adjustment", "Adjustment"
