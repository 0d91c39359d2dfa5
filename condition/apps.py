from django.apps import AppConfig


class ConditionConfig(AppConfig):
    """Condition monitoring at work: the measurements' assessment (anomaly alerts, projected
    crossings, proposed work orders) and each asset's health score (docs/monitoring.md).

    It sits above `alerts` and `workorders`, whose services it uses; the detectors and the
    stored series it reads are `monitoring`'s.
    """

    name = "condition"
    verbose_name = "Condition assessment"
