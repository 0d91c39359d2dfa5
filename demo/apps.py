from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo data set and `manage.py seed_demo`; the one app that may import every other."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "demo"
