"""Planners configure Sparkplug metric mappings in the admin (field errors where the rule is
wrong) and see their own sites' sequence gaps and node sessions only."""

import pytest
from django.utils import timezone

from gateways.models import Gateway, Sensor
from sparkplug.models import EdgeNodeSession, MetricMapping, SequenceGap
from tests.factories import GatewayFactory

pytestmark = pytest.mark.django_db
ADD = "/admin/sparkplug/metricmapping/add/"


@pytest.fixture
def gateway(site):
    gateway = GatewayFactory(site=site, name="Line 1 gateway")
    Gateway.objects.filter(pk=gateway.pk).update(
        sparkplug_group_id="plant", sparkplug_edge_node_id="line1"
    )
    return gateway


def rule_form(gateway, sensor, **fields):
    return {
        "gateway": gateway.pk,
        "sensor": sensor.pk,
        "metric": "Temperature",
        "is_active": "on",
        "target": "threshold",
        "meter": "",
        "asset": "",
        "condition": "temp_high",
        "severity": "major",
        "direction": "above",
        "threshold": "80",
        "clear_threshold": "70",
        **fields,
    }


def test_a_planner_adds_a_threshold_rule_and_is_told_where_it_is_wrong(
    logged_in, planner, gateway, pump
):
    sensor = Sensor.objects.create(gateway=gateway, code="temp1", asset=pump)
    client = logged_in(planner)
    response = client.post(ADD, rule_form(gateway, sensor, clear_threshold="90"))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "must be below it" in errors["clear_threshold"][0]
    assert not MetricMapping.objects.exists()

    response = client.post(ADD, rule_form(gateway, sensor))
    assert response.status_code == 302
    rule = MetricMapping.objects.get()
    assert (rule.asset, rule.raised, rule.threshold, rule.clear_threshold) == (pump, False, 80, 70)


def test_planners_see_only_their_sites_gaps_and_sessions(logged_in, planner, gateway, other_site):
    foreign = GatewayFactory(site=other_site, name="Foreign gateway")
    now = timezone.now()
    for each in (gateway, foreign):
        SequenceGap.objects.create(gateway=each, expected=3, got=9, topic="t", at=now)
        EdgeNodeSession.objects.create(gateway=each, online=True, bd_seq=2)
    client = logged_in(planner)
    for page in ("sequencegap", "edgenodesession"):
        content = client.get(f"/admin/sparkplug/{page}/").content.decode()
        assert "Line 1 gateway" in content
        assert "Foreign gateway" not in content
