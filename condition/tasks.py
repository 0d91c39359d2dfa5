"""Thin Celery tasks of condition assessment."""

from celery import shared_task

from condition.assessment import measurements_assess


@shared_task(name="condition.tasks.assess_measurements", acks_late=True)
def assess_measurements() -> dict:
    """Assess the watched measurements with new values (Celery beat, every 15 minutes)."""
    return measurements_assess().as_dict()
