from datetime import date

import pytest
import time_machine
from django.test import Client

from pm.models import PMPlan
from tests.factories import PlannerFactory
from tests.scheduling import local

pytestmark = pytest.mark.django_db

BERLIN = "Europe/Berlin"


@pytest.fixture
def client(site):
    client = Client()
    client.force_login(PlannerFactory(sites=[site]))
    return client


def test_a_planner_adds_a_pm_plan_in_the_admin(client, site, pump, job_plan):
    response = client.post(
        "/admin/pm/pmplan/add/",
        {
            "site": site.pk,
            "name": "Weekly inspection",
            "is_active": "on",
            "job_plan": job_plan.pk,
            "priority": 3,
            "scope": "asset",
            "asset": pump.pk,
            "work_order_status": "scheduled",
            "skip_while_open": "on",
            "trigger": "calendar",
            "interval": 1,
            "interval_unit": "week",
            "anchor": "fixed",
            "starts_on": "2025-06-02",
            "due_time": "06:00",
            "lead_days": 2,
            "meter_start": "0",
            "meter_lead": "0",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    plan = PMPlan.objects.get(name="Weekly inspection")
    assert (plan.asset, plan.interval_unit, plan.lead_days) == (pump, "week", 2)


def test_the_admin_forecast_lists_upcoming_pm_work(client, make_plan):
    make_plan(local(BERLIN, 2025, 1, 1), name="Monthly greasing", starts_on=date(2025, 1, 31))
    with time_machine.travel(local(BERLIN, 2025, 1, 10), tick=False):
        response = client.get("/admin/pm/pmplan/forecast/")

    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("Monthly greasing") == 3
    assert "2025-02-28 06:00" in page
