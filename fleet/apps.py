from django.apps import AppConfig


class FleetConfig(AppConfig):
    name = "fleet"
    verbose_name = "IIoT fleet health"

    def ready(self):
        """Register the fleet tasks in every process (the demo runs beat's work in-process)."""
        from fleet import tasks  # noqa: F401
