from datetime import date
from decimal import Decimal

import pytest
import time_machine

from pm.models import PMPlan
from tests.factories import (
    AssetFactory,
    MeterFactory,
    SiteFactory,
    TechnicianFactory,
    move_to,
)
from tests.scheduling import generate_at, local, pm_work_orders
from workorders.choices import Status

pytestmark = pytest.mark.django_db

BERLIN = "Europe/Berlin"


def plan_body(site, pump, job_plan, **overrides):
    body = {
        "site": site.pk,
        "name": "Monthly lubrication",
        "asset": pump.pk,
        "job_plan": job_plan.pk,
        "trigger": "calendar",
        "interval": 1,
        "interval_unit": "month",
        "starts_on": "2025-01-31",
        "lead_days": 3,
    }
    body.update(overrides)
    return body


def test_a_planner_creates_a_pm_plan(api, planner, site, pump, job_plan):
    api.force_authenticate(planner)
    response = api.post("/api/v1/pm-plans/", plan_body(site, pump, job_plan), format="json")

    assert response.status_code == 201, response.data
    plan = PMPlan.objects.get(pk=response.data["id"])
    assert (plan.asset, plan.interval_unit, plan.lead_days) == (pump, "month", 3)


def test_an_incomplete_trigger_answers_which_field_is_missing(api, planner, site, pump, job_plan):
    api.force_authenticate(planner)
    body = plan_body(site, pump, job_plan, interval=None, starts_on=None)
    response = api.post("/api/v1/pm-plans/", body, format="json")

    assert response.status_code == 400
    assert set(response.data) >= {"interval", "starts_on"}


def test_an_asset_of_another_site_is_refused(api, planner, site, job_plan):
    other = AssetFactory(site=SiteFactory())
    api.force_authenticate(planner)
    response = api.post("/api/v1/pm-plans/", plan_body(site, other, job_plan), format="json")

    assert response.status_code == 400
    assert "asset" in response.data


def test_technicians_read_plans_but_do_not_write_them(api, site, pump, job_plan):
    api.force_authenticate(TechnicianFactory(sites=[site]))
    response = api.post("/api/v1/pm-plans/", plan_body(site, pump, job_plan), format="json")

    assert response.status_code == 403
    assert api.get("/api/v1/pm-plans/").status_code == 200


def test_the_forecast_lists_the_next_ninety_days_of_pm_work(api, planner, make_plan, site):
    plan = make_plan(
        local(BERLIN, 2025, 1, 1), starts_on=date(2025, 1, 31), interval=1, interval_unit="month"
    )
    elsewhere = SiteFactory()
    make_plan(local(BERLIN, 2025, 1, 1), site=elsewhere, asset=AssetFactory(site=elsewhere))
    api.force_authenticate(planner)
    with time_machine.travel(local(BERLIN, 2025, 1, 10), tick=False):
        response = api.get(f"/api/v1/pm-plans/forecast/?days=90&site={site.pk}")

    assert response.status_code == 200
    dues = [item["due_at"][:10] for item in response.data["results"]]
    assert dues == ["2025-01-31", "2025-02-28", "2025-03-31"]
    assert {item["plan"] for item in response.data["results"]} == {plan.pk}


def test_the_forecast_shows_the_date_generation_will_use_for_early_floating_work(
    api, planner, make_plan, site
):
    """Floating work finished long before it was due keeps the cadence from its due date;
    the forecast and generation compute that date with the same code."""
    plan = make_plan(
        local(BERLIN, 2024, 12, 1),
        starts_on=date(2025, 1, 6),
        interval=1,
        interval_unit="week",
        anchor="floating",
        lead_days=14,
    )
    generate_at(local(BERLIN, 2024, 12, 23, 7))  # due 6 Jan, generated 14 days ahead
    with time_machine.travel(local(BERLIN, 2024, 12, 24, 9), tick=False):
        move_to(pm_work_orders(plan)[0], Status.COMPLETED)  # a week after is before 6 Jan
        api.force_authenticate(planner)
        response = api.get(f"/api/v1/pm-plans/forecast/?days=30&site={site.pk}")

    assert [item["due_at"][:10] for item in response.data["results"]] == ["2025-01-13"]
    generate_at(local(BERLIN, 2024, 12, 30, 7))  # 14 days before 13 Jan
    assert len(pm_work_orders(plan)) == 2
    assert pm_work_orders(plan)[-1].due_at.date() == date(2025, 1, 13)


def test_the_forecast_refuses_a_horizon_beyond_a_year(api, planner):
    api.force_authenticate(planner)
    response = api.get("/api/v1/pm-plans/forecast/?days=400")

    assert response.status_code == 400
    assert "days" in response.data


def test_compliance_counts_pm_work_completed_by_its_planned_due_date(api, planner, make_plan):
    plan = make_plan(
        local(BERLIN, 2025, 1, 1),
        starts_on=date(2025, 1, 6),
        interval=1,
        interval_unit="week",
        skip_while_open=False,
    )
    generate_at(local(BERLIN, 2025, 1, 13, 6))
    first, second = pm_work_orders(plan)
    with time_machine.travel(local(BERLIN, 2025, 1, 6, 5), tick=False):
        move_to(first, Status.COMPLETED)
    with time_machine.travel(local(BERLIN, 2025, 1, 14), tick=False):
        move_to(second, Status.COMPLETED)
    api.force_authenticate(planner)
    response = api.get(
        "/api/v1/pm-plans/compliance/",
        {"since": "2025-01-01T00:00:00Z", "until": "2025-02-01T00:00:00Z"},
    )

    assert response.status_code == 200
    assert response.data | {} == {
        "total": 2,
        "on_time": 1,
        "late": 1,
        "open": 0,
        "compliance": 50.0,
        "backlog": 0,
    }


def test_a_technician_posts_a_meter_reading(api, site, pump):
    meter = MeterFactory(asset=pump)
    technician = TechnicianFactory(sites=[site])
    api.force_authenticate(technician)
    response = api.post(
        "/api/v1/meter-readings/",
        {"meter": meter.pk, "value": "120.5", "observed_at": "2025-05-01T08:00:00Z"},
        format="json",
    )

    assert response.status_code == 201, response.data
    assert response.data["recorded_by"] == technician.username
    assert meter.readings.get().value == Decimal("120.5")


def test_a_backwards_reading_answers_400_with_the_reason(api, planner, pump):
    meter = MeterFactory(asset=pump)
    api.force_authenticate(planner)
    api.post(
        "/api/v1/meter-readings/",
        {"meter": meter.pk, "value": "500", "observed_at": "2025-05-01T08:00:00Z"},
        format="json",
    )
    response = api.post(
        "/api/v1/meter-readings/",
        {"meter": meter.pk, "value": "499", "observed_at": "2025-05-02T08:00:00Z"},
        format="json",
    )

    assert response.status_code == 400
    assert "below the reading 500.000" in response.data["value"][0]


def test_a_planner_resets_a_meter_through_the_api(api, planner, pump):
    meter = MeterFactory(asset=pump)
    api.force_authenticate(planner)
    api.post(
        "/api/v1/meter-readings/",
        {"meter": meter.pk, "value": "500", "observed_at": "2025-05-01T08:00:00Z"},
        format="json",
    )
    response = api.post(
        "/api/v1/meter-resets/",
        {"meter": meter.pk, "reason": "Counter replaced", "reset_at": "2025-05-01T09:00:00Z"},
        format="json",
    )
    assert response.status_code == 201, response.data
    assert response.data["offset"] == "500.000"
    reading = api.post(
        "/api/v1/meter-readings/",
        {"meter": meter.pk, "value": "3", "observed_at": "2025-05-01T10:00:00Z"},
        format="json",
    )
    assert reading.status_code == 201


def test_listing_plans_takes_a_fixed_number_of_queries(
    api, planner, make_plan, django_assert_max_num_queries
):
    for _ in range(5):
        make_plan(local(BERLIN, 2025, 1, 1), asset=AssetFactory(site=planner.sites.first()))
    api.force_authenticate(planner)
    with django_assert_max_num_queries(6):
        response = api.get("/api/v1/pm-plans/")
    assert response.data["count"] == 5
