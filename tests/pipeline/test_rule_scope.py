"""`alert_rule_save` decides who writes global rules (no site), so the API and the admin
refuse the same things with the same words."""

import pytest
from django.core.exceptions import ValidationError

from pipeline.models import AlertRule
from pipeline.services import alert_rule_save
from tests.factories import AssetFactory, SuperuserFactory

pytestmark = pytest.mark.django_db

REFUSAL = "Only superusers write rules for every site; choose a site."


def test_a_planner_cannot_write_a_global_rule(planner):
    with pytest.raises(ValidationError) as refused:
        alert_rule_save(name="everywhere", by=planner)

    assert refused.value.message_dict == {"site": [REFUSAL]}
    assert not AlertRule.objects.exists()


def test_a_planner_cannot_change_a_global_rule(planner):
    rule = alert_rule_save(name="everywhere")

    with pytest.raises(ValidationError):
        alert_rule_save(rule=rule, by=planner, site=planner.sites.get())

    rule.refresh_from_db()
    assert rule.site is None


def test_a_rule_scoped_to_an_asset_takes_the_assets_site(planner, site):
    pump = AssetFactory(site=site)

    rule = alert_rule_save(name="pump", asset=pump, by=planner)

    assert rule.site == site


def test_superusers_and_the_system_write_global_rules():
    by_superuser = alert_rule_save(name="a", by=SuperuserFactory())
    by_system = alert_rule_save(name="b")

    assert by_superuser.site is None and by_system.site is None


def test_the_api_answers_a_planners_global_rule_with_the_same_refusal(api, planner):
    api.force_authenticate(planner)

    response = api.post("/api/v1/alert-rules/", {"name": "everywhere"})

    assert response.status_code == 400
    assert response.json() == {"site": [REFUSAL]}
    assert not AlertRule.objects.exists()
