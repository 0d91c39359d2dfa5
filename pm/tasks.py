"""Thin Celery tasks of preventive maintenance."""

from celery import shared_task

from pm.services import pm_generate_due, rounds_generate_due


@shared_task(
    name="pm.tasks.generate_pm_work_orders",
    acks_late=True,
    # Generation commits per chunk of plans and is idempotent, so a run cut short by the
    # time limit loses nothing: the next beat run carries on where it stopped.
    soft_time_limit=600,
    time_limit=660,
)
def generate_pm_work_orders() -> dict:
    """Generate every due PM work order (Celery beat, every 15 minutes)."""
    result = pm_generate_due()
    return {"generated": result.generated, "skipped": result.skipped, "late": result.late}


@shared_task(name="pm.tasks.generate_round_runs", acks_late=True)
def generate_round_runs() -> dict:
    """Create due inspection round runs and mark missed ones (Celery beat, every 15 minutes)."""
    result = rounds_generate_due()
    return {"created": result.created, "missed": result.missed}
