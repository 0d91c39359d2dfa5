from django.db import models


class MetricTarget(models.TextChoices):
    """What a mapped Sparkplug metric feeds: a meter's readings, or a threshold rule's alerts."""

    METER = "meter", "Meter readings"
    THRESHOLD = "threshold", "Threshold alert"


class Direction(models.TextChoices):
    """Which side of the threshold is abnormal."""

    ABOVE = "above", "Above the threshold"
    BELOW = "below", "Below the threshold"


# Sparkplug B sequence numbers (seq and bdSeq) run 0..255 and wrap.
SEQ_MODULO = 256
