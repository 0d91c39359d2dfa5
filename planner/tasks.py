"""Thin Celery tasks of the planner pages."""

from celery import shared_task

from planner.services import dashboard_snapshots_refresh


@shared_task(
    name="planner.tasks.refresh_dashboard_figures",
    # Each run recomputes every snapshot from scratch: a run cut short loses nothing but
    # freshness, and the page reads the figures live once a snapshot has expired.
    soft_time_limit=300,
    time_limit=360,
)
def refresh_dashboard_figures() -> int:
    """Keep the dashboard's period figures for planners of several sites (beat, every 10 min)."""
    return dashboard_snapshots_refresh()
