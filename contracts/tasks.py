"""Thin Celery tasks of the contracts app."""

from celery import shared_task

from contracts.warnings import sla_warnings_send


@shared_task(name="contracts.tasks.sla_warn")
def sla_warn() -> int:
    """Refresh SLA states and warn planners of thresholds reached (beat, every minute)."""
    return sla_warnings_send()
