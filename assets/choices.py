from django.db import models


class Criticality(models.TextChoices):
    A = "A", "A (high)"
    B = "B", "B (medium)"
    C = "C", "C (low)"


class AssetState(models.TextChoices):
    OPERATING = "operating"
    DEGRADED = "degraded"
    DOWN = "down"
    DECOMMISSIONED = "decommissioned"


class AssetLevel(models.TextChoices):
    AREA = "area"
    LINE = "line", "Line / system"
    EQUIPMENT = "equipment", "Equipment unit"
    COMPONENT = "component"


class MovementKind(models.TextChoices):
    RECEIPT = "receipt"
    ISSUE = "issue", "Issue to work order"
    RETURN = "return", "Return from work order"
    ADJUSTMENT = "adjustment"


class EnergyType(models.TextChoices):
    """The energy an isolation point shuts off (lockout/tagout)."""

    ELECTRICAL = "electrical"
    MECHANICAL = "mechanical"
    HYDRAULIC = "hydraulic"
    PNEUMATIC = "pneumatic"
    THERMAL = "thermal"
    CHEMICAL = "chemical"
    OTHER = "other"
