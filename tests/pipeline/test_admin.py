"""The alert rule admin: planners see their sites' rules and the global ones, write rules of
their sites only (global rules are the superusers'), and every write is in the audit trail."""

import pytest
from django.urls import reverse

from audit.choices import AuditAction
from audit.models import AuditEntry
from pipeline.models import AlertRule
from pipeline.services import alert_rule_save
from tests.factories import (
    AssetFactory,
    JobPlanFactory,
    SiteFactory,
)
from tests.forms import form_data

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:pipeline_alertrule_add")
LIST_URL = reverse("admin:pipeline_alertrule_changelist")


def change_url(rule):
    return reverse("admin:pipeline_alertrule_change", args=[rule.pk])


@pytest.fixture
def site():
    return SiteFactory(code="own")


@pytest.fixture
def foreign_site():
    return SiteFactory(code="foreign")


@pytest.fixture
def planner_client(planner, logged_in):
    return logged_in(planner)


@pytest.fixture
def superuser_client(superuser, logged_in):
    return logged_in(superuser)


@pytest.fixture
def rules(site, foreign_site):
    return {
        "own": alert_rule_save(name="own vibration", site=site, condition_pattern="vibration.*"),
        "foreign": alert_rule_save(name="foreign vibration", site=foreign_site),
        "global": alert_rule_save(name="global fallback", condition_pattern="*"),
    }


def add_form(client, **values):
    data = form_data(client.get(ADD_URL), "alertrule_form")
    data.update(values)
    return data


def change_form(client, rule, **values):
    data = form_data(client.get(change_url(rule)), "alertrule_form")
    data.update(values)
    return data


def test_a_planner_sees_their_sites_rules_and_the_global_ones(planner_client, rules):
    listing = planner_client.get(LIST_URL)

    assert listing.status_code == 200
    page = listing.content.decode()
    assert "own vibration" in page and "global fallback" in page
    assert "foreign vibration" not in page


def test_another_sites_rule_answers_like_a_rule_that_does_not_exist(planner_client, rules):
    foreign = planner_client.get(change_url(rules["foreign"]))
    missing = planner_client.get(reverse("admin:pipeline_alertrule_change", args=[987654321]))

    assert foreign.status_code == missing.status_code == 302
    assert foreign["Location"] == missing["Location"]


def test_a_planner_creates_a_rule_for_their_site_and_the_trail_names_them(
    planner_client, planner, site
):
    pump = AssetFactory(site=site, tag="P-101")
    job_plan = JobPlanFactory(code="realign")
    data = add_form(
        planner_client,
        name="pump vibration",
        site=site.pk,
        asset=pump.pk,
        condition_pattern="vibration.*",
        min_severity="major",
        job_plan=job_plan.pk,
        requires_approval="on",
    )

    response = planner_client.post(ADD_URL, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    rule = AlertRule.objects.get(name="pump vibration")
    assert (rule.site, rule.asset, rule.job_plan) == (site, pump, job_plan)
    assert rule.min_severity == "major" and rule.requires_approval
    entry = AuditEntry.objects.get(action=AuditAction.ALERT_RULE_CREATE, object_id=str(rule.pk))
    assert entry.actor == planner and entry.site == site


def test_a_planner_cannot_create_a_rule_for_another_site(planner_client, foreign_site):
    data = add_form(planner_client, name="sneaky", site=foreign_site.pk)

    response = planner_client.post(ADD_URL, data)

    assert response.status_code == 200
    assert "site" in response.context["adminform"].form.errors
    assert not AlertRule.objects.filter(name="sneaky").exists()


@pytest.mark.parametrize("with_site", [True, False])
def test_a_planner_cannot_point_a_rule_at_another_sites_asset(
    planner_client, site, foreign_site, with_site
):
    foreign_pump = AssetFactory(site=foreign_site, tag="P-900")
    data = add_form(
        planner_client, name="sneaky", site=site.pk if with_site else "", asset=foreign_pump.pk
    )

    response = planner_client.post(ADD_URL, data)

    assert response.status_code == 200
    assert "asset" in response.context["adminform"].form.errors
    assert not AlertRule.objects.filter(name="sneaky").exists()


def test_a_planner_cannot_create_a_global_rule(planner_client):
    data = add_form(planner_client, name="everywhere", site="")

    response = planner_client.post(ADD_URL, data)

    assert response.status_code == 200
    assert "Only superusers write rules for every site" in response.content.decode()
    assert not AlertRule.objects.filter(name="everywhere").exists()
    assert not AuditEntry.objects.filter(action=AuditAction.ALERT_RULE_CREATE).exists()


def test_a_planner_edits_their_sites_rule_and_the_trail_records_what_changed(
    planner_client, planner, rules
):
    rule = rules["own"]
    data = change_form(planner_client, rule, condition_pattern="vibration.high")

    response = planner_client.post(change_url(rule), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    rule.refresh_from_db()
    assert rule.condition_pattern == "vibration.high"
    entry = AuditEntry.objects.get(action=AuditAction.ALERT_RULE_UPDATE, object_id=str(rule.pk))
    assert entry.actor == planner
    assert entry.changes == {"condition_pattern": ["vibration.*", "vibration.high"]}


def test_a_planner_cannot_move_their_rule_to_another_site(planner_client, rules, foreign_site):
    rule = rules["own"]
    data = change_form(planner_client, rule, site=foreign_site.pk)

    response = planner_client.post(change_url(rule), data)

    assert response.status_code == 200
    rule.refresh_from_db()
    assert rule.site.code == "own"


def test_a_planner_cannot_turn_their_rule_into_a_global_one(planner_client, rules):
    rule = rules["own"]
    data = change_form(planner_client, rule, site="")

    response = planner_client.post(change_url(rule), data)

    assert response.status_code == 200
    assert "Only superusers write rules for every site" in response.content.decode()
    rule.refresh_from_db()
    assert rule.site.code == "own"


def test_a_planner_sees_a_global_rule_read_only_and_cannot_change_it(planner_client, rules):
    rule = rules["global"]

    page = planner_client.get(change_url(rule))
    refused = planner_client.post(change_url(rule), {"name": "hijacked", "min_severity": "minor"})

    assert page.status_code == 200
    assert b'name="name"' not in page.content  # shown, not editable
    assert refused.status_code == 403
    rule.refresh_from_db()
    assert rule.name == "global fallback"
    assert not AuditEntry.objects.filter(action=AuditAction.ALERT_RULE_UPDATE).exists()


def test_a_superuser_edits_a_global_rule_and_the_trail_names_them(
    superuser_client, superuser, rules
):
    rule = rules["global"]
    data = change_form(superuser_client, rule, min_severity="major", cancel_on_clear="on")

    response = superuser_client.post(change_url(rule), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    rule.refresh_from_db()
    assert rule.site is None and rule.min_severity == "major" and rule.cancel_on_clear
    entry = AuditEntry.objects.get(action=AuditAction.ALERT_RULE_UPDATE, object_id=str(rule.pk))
    assert entry.actor == superuser
    assert entry.changes == {"min_severity": ["warning", "major"], "cancel_on_clear": [False, True]}


def test_a_superuser_creates_a_global_rule(superuser_client, superuser):
    data = add_form(superuser_client, name="everywhere", site="")

    response = superuser_client.post(ADD_URL, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    rule = AlertRule.objects.get(name="everywhere")
    assert rule.site is None
    assert AuditEntry.objects.get(object_id=str(rule.pk)).actor == superuser


def test_the_site_and_asset_choices_are_the_planners_sites_only(planner_client, site, foreign_site):
    AssetFactory(site=foreign_site, tag="P-900")
    form = planner_client.get(ADD_URL).context["adminform"].form

    assert list(form.fields["site"].queryset) == [site]
    assert not form.fields["asset"].queryset.filter(site=foreign_site).exists()
