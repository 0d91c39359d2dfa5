from datetime import datetime

import pytest
import time_machine

from tests.factories import JobPlanFactory, PMPlanFactory


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
