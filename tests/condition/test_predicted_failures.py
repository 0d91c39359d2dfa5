"""The planner dashboard lists the predicted failures of the planner's sites, soonest first."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from monitoring.choices import TrendStatus
from monitoring.models import MonitoredMeasurement
from monitoring.services import monitored_measurement_save
from tests.factories import AssetFactory, PlannerFactory, SiteFactory, WorkOrderFactory
from workorders.choices import Status

NOW = datetime(2026, 6, 10, 9, tzinfo=UTC)

pytestmark = pytest.mark.django_db


def projected(asset, name, days, *, status=TrendStatus.APPROACHING):
    monitored = monitored_measurement_save(asset=asset, name=name, unit="mm/s", alarm_limit=7.1)
    MonitoredMeasurement.objects.filter(pk=monitored.pk).update(
        trend_status=status,
        assessed_at=NOW,
        last_value=5.5,
        last_at=NOW,
        projected_at=NOW + timedelta(days=days),
        projected_earliest=NOW + timedelta(days=days - 2),
        projected_latest=NOW + timedelta(days=days + 3),
    )
    return monitored


@pytest.fixture
def plant():
    north, south = SiteFactory(code="north"), SiteFactory(code="south")
    return {
        "planner": PlannerFactory(username="paula", sites=[north]),
        "pump": AssetFactory(site=north, tag="P-101"),
        "fan": AssetFactory(site=north, tag="F-7"),
        "foreign": AssetFactory(site=south, tag="X-9"),
    }


def dashboard(client, plant):
    client.force_login(plant["planner"])
    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse("admin:planner-dashboard"))
    assert response.status_code == 200
    page = response.content.decode()
    return page[page.index('id="predicted-failures"') : page.index('id="sla-attainment"')]


def test_soonest_first_with_the_proposed_work(client, plant):
    projected(plant["fan"], "temperature", 40)
    projected(plant["pump"], "vibration", 12)
    work = WorkOrderFactory(
        site=plant["pump"].site,
        asset=plant["pump"],
        condition="trend.vibration",
        status=Status.REQUESTED,
    )

    section = dashboard(client, plant)

    assert section.index("P-101") < section.index("F-7")
    assert "22 Jun 2026 (20 Jun \u2013 25 Jun 2026)" in section
    assert work.number in section
    assert "none (beyond its horizon)" in section  # the fan's: nothing proposed yet


def test_other_sites_flat_trends_and_far_crossings_are_not_listed(client, plant):
    projected(plant["foreign"], "vibration", 5)
    projected(plant["pump"], "vibration", 5, status=TrendStatus.FLAT)
    projected(plant["fan"], "temperature", 200)

    section = dashboard(client, plant)

    assert "X-9" not in section
    assert "<tbody>" not in section
    assert "No watched measurement is projected" in section
