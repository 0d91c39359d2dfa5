from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Condition alerts"

    def ready(self):
        """Register the alert tasks in every process, not only in workers (which autodiscover
        them): services dispatch them by name (`alerts.dispatch`), and without a broker the
        demo runs them in-process. Imported here because tasks import models."""
        from alerts import tasks  # noqa: F401
