import pytest
from django.utils import timezone

from alerts.models import Alert
from tests.factories import GatewayFactory, scheduled_work


@pytest.fixture
def planner(planner_at_both_sites):
    """On the technician pages the planner works at both plants (labels across sites)."""
    return planner_at_both_sites


@pytest.fixture
def work(site, technician, pump):
    wo = scheduled_work(
        site,
        assignee=technician,
        asset=pump,
        title="High vibration on P-101",
        condition="vibration_high",
        steps=[
            "Check coupling alignment",
            {"text": "Measure bearing vibration", "requires_value": True, "unit": "mm/s"},
        ],
    )
    gateway = GatewayFactory(site=site)
    Alert.objects.create(
        gateway=gateway,
        site=site,
        alert_id="a-1",
        asset=pump,
        asset_tag=pump.tag,
        condition="vibration_high",
        severity="major",
        observed_at=timezone.now(),
        value=11.2,
        threshold=7.1,
        unit="mm/s",
        work_order=wo,
    )
    return wo
