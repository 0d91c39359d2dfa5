"""The data migrations that give existing job plans an owner from what uses them, and show
their existing audit entries at the sites that use them. Run on today's models, which have the
fields these migrations read and write."""

import importlib

import pytest
from django.apps import apps

from audit.models import AuditEntry
from pipeline.services import alert_rule_save
from tests.factories import (
    AssetFactory,
    CustomerFactory,
    JobPlanFactory,
    PlannerFactory,
    PMPlanFactory,
    SiteFactory,
)
from workorders.models import JobPlan

pytestmark = pytest.mark.django_db

owners = importlib.import_module("workorders.migrations.0007_job_plan_owner_from_use")
entries = importlib.import_module("audit.migrations.0005_job_plan_entries_seen_where_used")


def owner(job_plan):
    job_plan.refresh_from_db()
    return job_plan.site, job_plan.customer


@pytest.fixture
def sites():
    lakeshore = CustomerFactory(name="Lakeshore")
    return {
        "ber": SiteFactory(code="ber", customer=CustomerFactory(name="Rheinwerk")),
        "chi": SiteFactory(code="chi", customer=lakeshore),
        "sin": SiteFactory(code="sin", customer=lakeshore),
    }


def pm_at(site, job_plan):
    PMPlanFactory(site=site, asset=AssetFactory(site=site), job_plan=job_plan)


def test_each_plan_gets_the_one_site_the_customer_or_stays_global(sites):
    ber, chi, sin = sites["ber"], sites["chi"], sites["sin"]
    one_site, one_customer, two_customers, unused, everywhere = (
        JobPlanFactory(code=code) for code in ("one", "lakeshore", "two", "unused", "everywhere")
    )
    alert_rule_save(name="chi rule", site=chi, job_plan=one_site)
    pm_at(chi, one_site)
    alert_rule_save(name="chi rule 2", site=chi, job_plan=one_customer)
    pm_at(sin, one_customer)
    pm_at(ber, two_customers)
    pm_at(chi, two_customers)
    alert_rule_save(name="every site", job_plan=everywhere)

    owners.owner_from_use(apps, None)

    assert owner(one_site) == (chi, None)
    assert owner(one_customer) == (None, chi.customer)
    assert owner(two_customers) == (None, None)
    assert owner(unused) == (None, None)
    assert owner(everywhere) == (None, None)

    owners.ownerless(apps, None)

    assert set(JobPlan.objects.values_list("site", "customer")) == {(None, None)}


def test_existing_entries_of_a_plan_become_visible_at_the_sites_using_it(sites):
    chi, sin = sites["chi"], sites["sin"]
    job_plan = JobPlanFactory(code="lube")  # recorded before plans had owners: no site
    pm_at(chi, job_plan)
    AuditEntry.objects.filter(object_id=str(job_plan.pk)).update(site=None)
    AuditEntry.sites.through.objects.all().delete()
    chi_planner, sin_planner = PlannerFactory(sites=[chi]), PlannerFactory(sites=[sin])
    assert not AuditEntry.objects.for_user(chi_planner).exists()

    entries.name_sites(apps, None)

    assert [e.action for e in AuditEntry.objects.for_user(chi_planner)] == ["job_plan.create"]
    assert not AuditEntry.objects.for_user(sin_planner).exists()

    entries.forget_sites(apps, None)

    assert not AuditEntry.objects.for_user(chi_planner).exists()
