from datetime import date

import pytest
import time_machine

from pm.choices import OccurrenceStatus
from pm.models import PMOccurrence
from pm.services import pm_generate_due
from tests.concurrency import at_once
from tests.factories import AssetFactory, JobPlanFactory, PMPlanFactory, SiteFactory
from tests.scheduling import local
from workorders.models import StatusChange, WorkOrder

BERLIN = "Europe/Berlin"


@pytest.mark.postgresql(reason="SQLite locks the whole database for writers")
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_create_each_occurrence_exactly_once():
    site = SiteFactory(timezone=BERLIN)
    job_plan = JobPlanFactory(steps=["Inspect"])
    with time_machine.travel(local(BERLIN, 2025, 1, 1), tick=False):
        for _ in range(30):
            PMPlanFactory(
                site=site,
                asset=AssetFactory(site=site),
                job_plan=job_plan,
                interval=1,
                interval_unit="week",
                starts_on=date(2025, 1, 6),
                skip_while_open=False,
            )
    now = local(BERLIN, 2025, 1, 20, 7)  # three weekly occurrences each, two of them late
    results = at_once(lambda: pm_generate_due(now=now, chunk_size=7), 4)

    assert sum(r.generated for r in results) == 90
    assert WorkOrder.objects.count() == 90
    assert PMOccurrence.objects.filter(status=OccurrenceStatus.GENERATED).count() == 90
    assert PMOccurrence.objects.filter(work_order__isnull=True).count() == 0
    assert StatusChange.objects.count() == 90
