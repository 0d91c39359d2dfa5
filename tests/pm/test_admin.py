from datetime import date

import pytest
import time_machine
from django.test import Client

from pm.models import PMPlan, Route
from tests.factories import AssetFactory, PlannerFactory
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


def route_form(site, asset):
    return {
        "site": site.pk,
        "code": "R-1",
        "name": "Pump house walk",
        "is_active": "on",
        "interval": 1,
        "interval_unit": "day",
        "starts_on": "2025-06-02",
        "due_time": "08:00",
        "lead_hours": 12,
        "grace_hours": 4,
        "points-TOTAL_FORMS": "1",
        "points-INITIAL_FORMS": "0",
        "points-0-position": "1",
        "points-0-asset": asset.pk,
        "points-0-instruction": "Look and listen.",
    }


def test_a_planner_adds_a_route_with_its_points_in_the_admin(site, pump):
    client = Client()
    client.force_login(PlannerFactory(sites=[site]))

    response = client.post("/admin/pm/route/add/", route_form(site, pump))

    assert response.status_code == 302, response.content.decode()[:2000]
    route = Route.objects.get(code="R-1")
    assert list(route.points.values_list("position", "asset")) == [(1, pump.pk)]


def test_a_new_routes_point_on_another_sites_asset_is_refused(site, other_site):
    client = Client()
    client.force_login(PlannerFactory(sites=[site, other_site]))
    foreign = AssetFactory(site=other_site)

    response = client.post("/admin/pm/route/add/", route_form(site, foreign))

    assert response.status_code == 200
    assert "The asset belongs to another site." in response.content.decode()
    assert not Route.objects.exists()
