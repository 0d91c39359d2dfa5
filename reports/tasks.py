"""Thin Celery tasks of the client reports."""

from celery import shared_task

from reports.services import monthly_reports_send


@shared_task(name="reports.tasks.send_monthly_reports", soft_time_limit=600, time_limit=660)
def send_monthly_reports() -> int:
    """Last month's report to each customer's recipients (beat, hourly on the 1st)."""
    return monthly_reports_send()
