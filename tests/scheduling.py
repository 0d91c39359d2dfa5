"""Preventive maintenance in tests: site-local instants, generation at a moment, what it made."""

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine

from pm.models import PMOccurrence
from pm.services import pm_generate_due
from workorders.models import WorkOrder


def local(tz: str, *args) -> datetime:
    """datetime(*args) on the wall clock of time zone `tz`."""
    return datetime(*args, tzinfo=ZoneInfo(tz))


def generate_at(moment: datetime):
    """Run generation with the clock at `moment`."""
    with time_machine.travel(moment, tick=False):
        return pm_generate_due()


def pm_work_orders(plan):
    """The plan's work orders, earliest planned due first."""
    return list(WorkOrder.objects.filter(pm_plan=plan).order_by("planned_due_at"))


def local_dues(plan, tz=None):
    """The planned due instants of the plan's work orders, in the site's (or `tz`'s) time."""
    tz = ZoneInfo(tz or plan.site.timezone)
    return [wo.planned_due_at.astimezone(tz) for wo in pm_work_orders(plan)]


def occurrences(plan):
    """The plan's occurrences, by due instant then meter threshold."""
    return list(PMOccurrence.objects.filter(plan=plan).order_by("due_at", "threshold"))
