from django.apps import AppConfig


class AuditConfig(AppConfig):
    """Who changed gateway secrets, alert rules, job plans, routes and isolation points, when,
    and what changed."""

    name = "audit"
    verbose_name = "Audit trail"
