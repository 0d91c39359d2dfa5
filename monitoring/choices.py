from django.db import models


class AnomalyKind(models.TextChoices):
    VALUE = "value", "A value outside the baseline's band"
    DRIFT = "drift", "A sustained drift away from the baseline"


class Direction(models.TextChoices):
    ABOVE = "above", "Alarm when the measurement rises above the limit"
    BELOW = "below", "Alarm when the measurement falls below the limit"


class TrendStatus(models.TextChoices):
    INSUFFICIENT = "insufficient", "Too few points in the window"
    FLAT = "flat", "No significant trend"
    RECOVERED = "recovered", "Trending away from the limit"
    APPROACHING = "approaching", "Trending towards the limit"


class Transform(models.TextChoices):
    LINEAR = "linear", "The measurement itself"
    LOG_EXCESS = "log_excess", "The logarithm of the excess over the healthy level"
    AUTO = "auto", "Whichever of the two fits the window better"


class MeasurementSource(models.TextChoices):
    ALERT = "alert", "A gateway alert's value"
    READING = "reading", "A gateway meter reading"
    ROUND = "round", "An inspection round's reading"
    MQTT = "mqtt", "A plain MQTT message"
    SPARKPLUG = "sparkplug", "A Sparkplug B metric"


class Resolution(models.TextChoices):
    RAW = "raw", "Every stored value"
    HOUR = "hour", "Hourly aggregates"
    DAY = "day", "Daily aggregates (from the hourly ones)"
