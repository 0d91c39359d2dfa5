"""Writes for the Sparkplug host: the planners' metric mappings, and the sequence gaps it
records (kept KEEP_DAYS, pruned as `mqtt.records` prunes rejected messages: every
PRUNE_EVERYth row deletes a bounded batch of the expired ones, no beat entry needed)."""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction

from sparkplug.models import MetricMapping, SequenceGap

KEEP_DAYS = 30
PRUNE_EVERY = 500
PRUNE_BATCH = 5000

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
    rule whose metric, direction or threshold changes is armed again.

    A change re-reads the row under its lock and writes only the given fields (and the
    re-arming): the host updates a rule's state (raised, last value) while a planner edits it,
    and the planner's possibly old copy must not overwrite that state."""
    unknown = set(fields) - _WRITABLE
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in unknown})
    if mapping is None or mapping.pk is None:
        mapping = mapping or MetricMapping()
        for name, value in fields.items():
            setattr(mapping, name, value)
        mapping.full_clean()
        mapping.save()
        return mapping
    current = MetricMapping.objects.select_for_update().get(pk=mapping.pk)
    changed = [name for name, value in fields.items() if getattr(current, name) != value]
    for name in changed:
        setattr(current, name, fields[name])
    update = list(changed)
    if any(name in _REARMING for name in changed):
        current.raised = False
        update.append("raised")
    current.full_clean()
    if update:
        current.save(update_fields=update)
    return current


def sequence_gap_record(
    *, gateway, expected: int, got: int, topic: str, now: datetime
) -> SequenceGap:
    """Record a sequence gap of `gateway`'s node (call inside the message's transaction)."""
    gap = SequenceGap.objects.create(
        gateway=gateway, expected=expected, got=got, topic=topic[:300], at=now
    )
    if gap.pk % PRUNE_EVERY == 0:
        sequence_gaps_prune(now=now)
    return gap


def sequence_gaps_prune(*, now: datetime, keep_days: int = KEEP_DAYS) -> int:
    """Delete sequence gaps older than `keep_days`, at most PRUNE_BATCH rows; how many."""
    old = SequenceGap.objects.filter(at__lt=now - timedelta(days=keep_days))
    ids = list(old.order_by("at").values_list("pk", flat=True)[:PRUNE_BATCH])
    deleted, _ = SequenceGap.objects.filter(pk__in=ids).delete()
    return deleted
