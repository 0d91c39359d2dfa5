from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    """Condition monitoring: anomaly detection and projected crossings over measurements.

    A pure library (`detectors.py`, `synthetic.py`) and its evaluation command, and the stored
    measurements (`models.py`: raw values partitioned by month, hourly aggregates) that alerts,
    readings and rounds write through `services.measurements_record`.
    """

    name = "monitoring"
    verbose_name = "Condition monitoring"
