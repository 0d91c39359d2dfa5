from django.apps import AppConfig


class AuditConfig(AppConfig):
    """Who changed gateway secrets, alert rules and job plans, when, and what changed."""

    name = "audit"
    verbose_name = "Audit trail"
