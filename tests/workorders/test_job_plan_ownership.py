"""Job plans belong to a site, to a customer, or to every site (global).

Reproduced (issue 12 §3): the `ber` planner edited the job plan that `chi`'s alert rule and PM
plan use (safety steps replaced, 999 of a part added) and deleted another. Here `ber` belongs
to Rheinwerk, `chi` and `sin` to Lakeshore, as in the demo data.
"""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from audit.models import AuditEntry
from cmms.errors import NotPermitted
from pipeline.services import alert_rule_save
from tests.factories import (
    AssetFactory,
    CustomerFactory,
    JobPlanFactory,
    PartFactory,
    PlannerFactory,
    PMPlanFactory,
    SiteFactory,
    SuperuserFactory,
    TechnicianFactory,
)
from workorders.job_plans import job_plan_delete, job_plan_save
from workorders.models import JobPlan

pytestmark = pytest.mark.django_db

LOCKOUT = "Lock out and tag out the motor"


@pytest.fixture
def ber():
    return SiteFactory(code="ber", customer=CustomerFactory(name="Rheinwerk"))


@pytest.fixture
def chi():
    return SiteFactory(code="chi", customer=CustomerFactory(name="Lakeshore"))


@pytest.fixture
def sin(chi):
    return SiteFactory(code="sin", customer=chi.customer)


@pytest.fixture
def ber_planner(ber):
    return PlannerFactory(username="petra", sites=[ber])


@pytest.fixture
def chi_planner(chi):
    return PlannerFactory(username="dan", sites=[chi])


@pytest.fixture
def part():
    return PartFactory(sku="BRG-6205")


def used_at(site, job_plan, name):
    """An alert rule and a PM plan of `site` that use `job_plan`."""
    alert_rule_save(name=f"{name} rule", site=site, job_plan=job_plan)
    PMPlanFactory(site=site, asset=AssetFactory(site=site), job_plan=job_plan, name=f"{name} PM")


@pytest.fixture
def chi_plan(chi, part):
    job_plan = JobPlanFactory(
        site=chi, code="chi-motor", steps=[LOCKOUT, "Replace bearing"], parts=[(part, 1)]
    )
    used_at(chi, job_plan, "chi motor")
    return job_plan


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def plan_rows(job_plan):
    return (
        list(job_plan.steps.values_list("text", flat=True)),
        list(job_plan.parts.values_list("part__sku", "quantity")),
    )


# ---------------------------------------------------------------- the reproduced attack


def test_another_sites_planner_cannot_replace_the_steps_or_add_parts_and_gets_a_404(
    ber_planner, chi_plan, part
):
    before = plan_rows(chi_plan)
    attack = {"steps": [{"text": "Just do it"}], "parts": [{"part": part.pk, "quantity": "999"}]}

    assert api(ber_planner).patch(f"/api/v1/job-plans/{chi_plan.pk}/", attack).status_code == 404
    assert api(ber_planner).delete(f"/api/v1/job-plans/{chi_plan.pk}/").status_code == 404
    assert api(ber_planner).get(f"/api/v1/job-plans/{chi_plan.pk}/").status_code == 404
    codes = [p["code"] for p in api(ber_planner).get("/api/v1/job-plans/").json()["results"]]
    assert "chi-motor" not in codes
    assert plan_rows(chi_plan) == ([LOCKOUT, "Replace bearing"], [("BRG-6205", Decimal("1"))])
    assert plan_rows(chi_plan) == before


def test_another_sites_planner_cannot_reach_the_plan_in_the_admin(ber_planner, chi_plan, logged_in):
    client = logged_in(ber_planner)
    change = client.get(reverse("admin:workorders_jobplan_change", args=[chi_plan.pk]))
    assert change.status_code == 302  # to the index: "does not exist"
    client.post(reverse("admin:workorders_jobplan_delete", args=[chi_plan.pk]), {"post": "yes"})
    assert JobPlan.objects.filter(pk=chi_plan.pk).exists()


def test_the_service_refuses_another_sites_planner_whatever_the_caller(ber_planner, chi_plan):
    with pytest.raises(NotPermitted):
        job_plan_save(job_plan=chi_plan, steps=["Just do it"], by=ber_planner)
    with pytest.raises(NotPermitted):
        job_plan_delete(job_plan=chi_plan, by=ber_planner)
    assert list(chi_plan.steps.values_list("text", flat=True)) == [LOCKOUT, "Replace bearing"]


# ---------------------------------------------------------------- global plans


def test_planners_read_a_global_plan_but_only_superusers_change_it(ber_planner, part):
    shared = JobPlanFactory(code="lube", title="Lubricate", steps=[LOCKOUT])
    url = f"/api/v1/job-plans/{shared.pk}/"

    assert api(ber_planner).get(url).json()["code"] == "lube"
    refused = api(ber_planner).patch(url, {"title": "Hijacked"})
    assert refused.status_code == 403
    assert "every site" in refused.json()["detail"]
    assert api(ber_planner).delete(url).status_code == 403
    assert api(SuperuserFactory()).patch(url, {"title": "Lubricate (grease)"}).status_code == 200
    shared.refresh_from_db()
    assert shared.title == "Lubricate (grease)"


def test_a_planner_cannot_create_a_global_plan_and_is_told_to_choose_a_site(ber_planner):
    response = api(ber_planner).post("/api/v1/job-plans/", {"code": "mine", "title": "Mine"})

    assert response.status_code == 400
    assert response.json() == {
        "site": ["Only superusers write job plans for every site; choose a site or a customer."]
    }
    assert not JobPlan.objects.exists()


def test_a_global_plan_shows_read_only_in_the_admin_to_planners(ber_planner, logged_in):
    shared = JobPlanFactory(code="lube", title="Lubricate", steps=[LOCKOUT])
    client = logged_in(ber_planner)
    url = reverse("admin:workorders_jobplan_change", args=[shared.pk])

    page = client.get(url)

    assert page.status_code == 200
    assert b'name="title"' not in page.content and b'name="steps-0-text"' not in page.content
    assert client.post(url, {"title": "Hijacked"}).status_code == 403
    delete = reverse("admin:workorders_jobplan_delete", args=[shared.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert JobPlan.objects.get(pk=shared.pk).title == "Lubricate"


# ---------------------------------------------------------------- customer plans


def test_a_customers_plan_is_written_only_by_a_planner_of_all_its_sites(chi, sin, chi_planner):
    lakeshore = JobPlanFactory(customer=chi.customer, code="filler", title="Filler service")
    both = PlannerFactory(sites=[chi, sin])
    url = f"/api/v1/job-plans/{lakeshore.pk}/"

    assert api(chi_planner).get(url).status_code == 200
    refused = api(chi_planner).patch(url, {"title": "Changed by chi"})
    assert refused.status_code == 403
    assert "customer with sites you do not plan" in refused.json()["detail"]
    assert api(both).patch(url, {"title": "Filler service (v2)"}).status_code == 200
    lakeshore.refresh_from_db()
    assert lakeshore.title == "Filler service (v2)"


def test_a_planner_of_some_of_a_customers_sites_cannot_create_a_plan_for_the_customer(
    chi, sin, chi_planner
):
    body = {"code": "filler", "title": "Filler", "customer": chi.customer.pk}

    response = api(chi_planner).post("/api/v1/job-plans/", body)

    assert response.status_code == 400
    assert response.json() == {
        "customer": [
            "You may write a customer's job plans only when you plan all of its sites; "
            "choose a site."
        ]
    }
    assert api(PlannerFactory(sites=[chi, sin])).post("/api/v1/job-plans/", body).status_code == 201


def test_another_customers_plan_is_invisible(ber_planner, chi):
    lakeshore = JobPlanFactory(customer=chi.customer, code="filler")

    assert api(ber_planner).get(f"/api/v1/job-plans/{lakeshore.pk}/").status_code == 404


def test_technicians_read_the_plans_usable_at_their_sites_and_write_none(chi, ber, chi_plan):
    JobPlanFactory(site=ber, code="ber-only")
    JobPlanFactory(customer=chi.customer, code="lakeshore")
    JobPlanFactory(code="global")
    technician = TechnicianFactory(sites=[chi])

    listing = api(technician).get("/api/v1/job-plans/").json()["results"]

    assert sorted(p["code"] for p in listing) == ["chi-motor", "global", "lakeshore"]
    patch = api(technician).patch(f"/api/v1/job-plans/{chi_plan.pk}/", {"title": "x"})
    assert patch.status_code == 403


# ---------------------------------------------------------------- deleting a plan in use


def test_deleting_a_used_plan_answers_409_naming_the_rule_and_the_pm_plan(chi_planner, chi_plan):
    response = api(chi_planner).delete(f"/api/v1/job-plans/{chi_plan.pk}/")

    assert response.status_code == 409
    assert response.json() == {
        "detail": "Job plan chi-motor is used by alert rule “chi motor rule”, "
        "PM plan “chi motor PM”; deactivate it or change those first.",
        "code": "in_use",
    }
    assert JobPlan.objects.filter(pk=chi_plan.pk).exists()


def test_deleting_an_unused_plan_of_my_site_works_and_is_audited(chi_planner, chi):
    spare = JobPlanFactory(site=chi, code="spare")

    assert api(chi_planner).delete(f"/api/v1/job-plans/{spare.pk}/").status_code == 204

    assert not JobPlan.objects.filter(pk=spare.pk).exists()
    entry = AuditEntry.objects.get(action="job_plan.delete")
    assert (entry.actor, entry.site, entry.object_id) == (chi_planner, chi, str(spare.pk))


def test_the_admin_shows_why_a_used_plan_cannot_be_deleted(chi_planner, chi_plan, logged_in):
    client = logged_in(chi_planner)
    url = reverse("admin:workorders_jobplan_delete", args=[chi_plan.pk])

    for response in (client.get(url, follow=True), client.post(url, {"post": "yes"}, follow=True)):
        assert response.status_code == 200
        messages = [str(m) for m in response.context["messages"]]
        assert messages == [
            "Job plan chi-motor is used by alert rule “chi motor rule”, PM plan “chi motor PM”; "
            "deactivate it or change those first."
        ]
    assert JobPlan.objects.filter(pk=chi_plan.pk).exists()


def test_the_admin_deletes_an_unused_plan_of_my_site(chi_planner, chi, logged_in):
    spare = JobPlanFactory(site=chi, code="spare")
    client = logged_in(chi_planner)

    response = client.post(
        reverse("admin:workorders_jobplan_delete", args=[spare.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not JobPlan.objects.filter(pk=spare.pk).exists()
    assert AuditEntry.objects.filter(action="job_plan.delete", actor=chi_planner).count() == 1


# ---------------------------------------------------------------- what rules and PM plans use


def test_a_rule_or_pm_plan_may_not_use_another_sites_plan_even_for_a_superuser(ber, chi_plan):
    root = SuperuserFactory()
    rule = api(root).post(
        "/api/v1/alert-rules/", {"name": "ber rule", "site": ber.pk, "job_plan": chi_plan.pk}
    )
    assert rule.status_code == 400
    assert rule.json()["job_plan"] == [
        "This job plan belongs to another site or customer; choose one of this site, its "
        "customer or every site."
    ]
    pm = api(root).post(
        "/api/v1/pm-plans/",
        {
            "site": ber.pk,
            "name": "ber PM",
            "scope": "asset",
            "asset": AssetFactory(site=ber).pk,
            "job_plan": chi_plan.pk,
            "trigger": "calendar",
            "interval": 1,
            "interval_unit": "month",
            "starts_on": "2030-01-01",
        },
    )
    assert pm.status_code == 400
    assert "job_plan" in pm.json()


def test_a_planner_cannot_name_another_sites_plan_in_a_rule(ber, ber_planner, chi_plan):
    response = api(ber_planner).post(
        "/api/v1/alert-rules/", {"name": "ber rule", "site": ber.pk, "job_plan": chi_plan.pk}
    )

    assert response.status_code == 400
    assert "does not exist" in response.json()["job_plan"][0]


def test_a_global_rule_may_use_only_a_global_plan(chi_plan):
    with pytest.raises(ValidationError) as refused:
        alert_rule_save(name="everywhere", job_plan=chi_plan)
    assert "job_plan" in refused.value.message_dict
    assert alert_rule_save(name="everywhere", job_plan=JobPlanFactory(code="g")).pk


def test_a_plan_cannot_move_away_from_the_sites_whose_rules_use_it(chi_plan, chi, sin):
    both = PlannerFactory(sites=[chi, sin])
    with pytest.raises(ValidationError) as refused:
        job_plan_save(job_plan=chi_plan, site=sin, by=both)
    assert refused.value.message_dict == {
        "site": [
            "Still used where the new owner does not reach: alert rule “chi motor rule”, "
            "PM plan “chi motor PM”."
        ]
    }
    moved = job_plan_save(job_plan=chi_plan, site=None, customer=chi.customer, by=both)
    assert moved.customer == chi.customer and moved.site is None


# ---------------------------------------------------------------- the audit trail


def test_a_global_plans_change_is_seen_by_the_planners_of_the_sites_using_it(
    ber, chi, chi_planner, ber_planner
):
    shared = JobPlanFactory(code="lube")
    used_at(chi, shared, "chi lube")
    job_plan_save(job_plan=shared, title="Lubricate (grease)", by=SuperuserFactory())

    chi_trail = api(chi_planner).get("/api/v1/audit/", {"action": "job_plan.update"}).json()
    ber_trail = api(ber_planner).get("/api/v1/audit/", {"action": "job_plan.update"}).json()

    assert [(e["object_repr"], e["sites"]) for e in chi_trail["results"]] == [
        ("lube Lubricate (grease)", [chi.pk])
    ]
    assert ber_trail["count"] == 0


def test_a_customers_plan_change_is_seen_at_each_of_its_sites_and_nowhere_else(
    chi, sin, ber_planner, logged_in
):
    lakeshore = JobPlanFactory(customer=chi.customer, code="filler")
    job_plan_save(job_plan=lakeshore, title="Filler v2", by=PlannerFactory(sites=[chi, sin]))
    sin_planner = PlannerFactory(sites=[sin])

    for planner in (sin_planner, PlannerFactory(sites=[chi])):
        trail = api(planner).get("/api/v1/audit/", {"action": "job_plan.update"}).json()
        [entry] = trail["results"]
        assert entry["sites"] == sorted(s.pk for s in planner.sites.all())  # theirs only
    assert (
        api(ber_planner).get("/api/v1/audit/", {"action": "job_plan.update"}).json()["results"]
        == []
    )
    page = logged_in(sin_planner).get(reverse("admin:audit_auditentry_changelist"))
    assert "filler Filler v2" in page.content.decode()
    filtered = api(sin_planner).get("/api/v1/audit/", {"site": sin.pk}).json()
    assert [e["action"] for e in filtered["results"]] == ["job_plan.update", "job_plan.create"]


def test_moving_a_plan_to_another_site_is_seen_by_the_planners_of_both(
    chi, ber, chi_planner, ber_planner
):
    spare = JobPlanFactory(site=chi, code="spare")

    job_plan_save(job_plan=spare, site=ber, by=SuperuserFactory())

    for planner in (chi_planner, ber_planner):
        trail = api(planner).get("/api/v1/audit/", {"action": "job_plan.update"}).json()
        assert [e["changes"] for e in trail["results"]] == [{"site": [chi.pk, ber.pk]}]
