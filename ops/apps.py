from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations: health and readiness probes, Prometheus metrics, login throttling backend."""

    name = "ops"
    verbose_name = "Operations"
