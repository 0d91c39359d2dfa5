"""The Celery application; configuration comes from Django settings (CELERY_*)."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cmms.settings")

app = Celery("cmms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# Database connections in workers follow Django's rules (DB_CONN_MAX_AGE, health checks), as
# they do for web requests. Celery's Django fixup would otherwise close the connection after
# every task, so each alert paid for a new PostgreSQL connection; a reuse count high enough
# never to trigger turns that off, and the handlers below put Django's own policy in its place.
app.conf.CELERY_DB_REUSE_MAX = 2**62


@signals.task_prerun.connect
@signals.task_postrun.connect
def close_old_database_connections(**kwargs) -> None:
    """Close connections that are unusable (after an error) or older than DB_CONN_MAX_AGE."""
    task = kwargs.get("task")
    if task is not None and getattr(task.request, "is_eager", False):
        return  # in-process: the caller's connection and transaction are not ours to close
    from django.db import close_old_connections

    close_old_connections()
