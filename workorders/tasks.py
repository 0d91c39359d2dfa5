"""Thin Celery tasks of work orders: load by id, call a service, own the retry."""

from celery import shared_task

from workorders.notifications import work_order_assignee_notify


@shared_task(
    name="pipeline.notify_assignee",  # its registered name from before it moved here; kept
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def notify_assignee(work_order_id: int) -> None:
    """E-mail the assigned technician that a work order is theirs."""
    work_order_assignee_notify(work_order_id=work_order_id)
