from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    """Condition monitoring: anomaly detection and projected crossings over measurements.

    For now a pure library (`detectors.py`, `synthetic.py`) and its evaluation command; no
    models yet: storing measurements and turning projections into work orders come next.
    """

    name = "monitoring"
    verbose_name = "Condition monitoring"
