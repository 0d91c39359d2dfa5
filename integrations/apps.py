from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self):
        """Register the delivery tasks in every process: services enqueue them by name
        (`integrations.dispatch`), and without a broker the demo runs them in-process."""
        from integrations import tasks  # noqa: F401
