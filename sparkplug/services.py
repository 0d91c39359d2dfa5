"""Writes for the Sparkplug host's configuration: the planners' metric mappings."""

from django.core.exceptions import ValidationError
from django.db import transaction

from sparkplug.models import MetricMapping

_WRITABLE = frozenset(
    {
        "gateway",
        "sensor",
        "metric",
        "target",
        "is_active",
        "meter",
        "asset",
        "condition",
        "severity",
        "direction",
        "threshold",
        "clear_threshold",
    }
)
# Changing what a rule watches or where its limits are starts it afresh (armed).
_REARMING = frozenset({"gateway", "sensor", "metric", "target", "direction", "threshold"})


@transaction.atomic
def metric_mapping_save(
    *, mapping: MetricMapping | None = None, by=None, **fields
) -> MetricMapping:
    """Create a mapping, or change `mapping`; validated (`MetricMapping.clean`). A threshold
    rule whose metric, direction or threshold changes is armed again."""
    unknown = set(fields) - _WRITABLE
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in unknown})
    mapping = mapping or MetricMapping()
    rearm = mapping.pk is not None and any(
        getattr(mapping, name) != value for name, value in fields.items() if name in _REARMING
    )
    for name, value in fields.items():
        setattr(mapping, name, value)
    if rearm:
        mapping.raised = False
    mapping.full_clean()
    mapping.save()
    return mapping
