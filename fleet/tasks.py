"""Beat's fleet checks (cmms.settings.CELERY_BEAT_SCHEDULE).

(Interface stub; the checks helper builds them.)
"""

from celery import shared_task


@shared_task(name="fleet.tasks.check_connectivity", ignore_result=True)
def check_connectivity() -> None:
    """Record late/offline/recovered gateways and stale sensors; open and settle their work."""


@shared_task(name="fleet.tasks.check_upkeep", ignore_result=True)
def check_upkeep() -> None:
    """Low batteries and outdated firmware become work, deduplicated."""
