from django.apps import AppConfig


class PlannerConfig(AppConfig):
    """The planners' workspace in the admin: dashboard, triage queue and dispatch board."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "planner"
