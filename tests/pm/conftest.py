from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from pm.models import PMOccurrence
from pm.services import pm_generate_due
from tests.factories import AssetFactory, JobPlanFactory, PMPlanFactory, SiteFactory
from workorders.models import WorkOrder


def local(tz: str, *args) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(tz))


def generate_at(moment: datetime):
    """Run generation with the clock at `moment`."""
    with time_machine.travel(moment, tick=False):
        return pm_generate_due()


def pm_work_orders(plan):
    return list(WorkOrder.objects.filter(pm_plan=plan).order_by("planned_due_at"))


def local_dues(plan, tz=None):
    tz = ZoneInfo(tz or plan.site.timezone)
    return [wo.planned_due_at.astimezone(tz) for wo in pm_work_orders(plan)]


def occurrences(plan):
    return list(PMOccurrence.objects.filter(plan=plan).order_by("due_at", "threshold"))


@pytest.fixture
def site():
    return SiteFactory(timezone="Europe/Berlin")


@pytest.fixture
def pump(site):
    return AssetFactory(site=site, tag="P-101")


@pytest.fixture
def job_plan():
    return JobPlanFactory(code="lube", title="Lubricate", steps=["Grease bearings", "Check noise"])


@pytest.fixture
def make_plan(site, pump, job_plan):
    """A plan created at `created` (site time), with any field overridden."""

    def make(created: datetime, **fields):
        fields.setdefault("site", site)
        fields.setdefault("asset", pump)
        fields.setdefault("job_plan", job_plan)
        with time_machine.travel(created, tick=False):
            return PMPlanFactory(**fields)

    return make
