"""Beat's fleet checks (cmms.settings.CELERY_BEAT_SCHEDULE): thin wrappers that read the clock
and call the checks. Running two at once is safe (see fleet.connectivity)."""

from celery import shared_task
from django.utils import timezone

from fleet import connectivity, upkeep


@shared_task(name="fleet.tasks.check_connectivity", ignore_result=True)
def check_connectivity() -> None:
    """Record late/offline/recovered gateways and stale sensors; open and settle their work."""
    connectivity.check_connectivity(now=timezone.now())


@shared_task(name="fleet.tasks.check_upkeep", ignore_result=True)
def check_upkeep() -> None:
    """Low batteries and outdated firmware become work, deduplicated."""
    upkeep.check_upkeep(now=timezone.now())
