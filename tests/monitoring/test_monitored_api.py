"""`/api/v1/monitored-measurements/`: planners put measurements under watch, everyone at the
site reads them with their latest assessment; refusals name the field."""

import pytest

from audit.models import AuditEntry
from monitoring.choices import TrendStatus
from monitoring.models import MonitoredMeasurement
from monitoring.services import monitored_measurement_save
from tests.factories import AssetFactory, WorkOrderFactory
from workorders.choices import Status

pytestmark = pytest.mark.django_db
URL = "/api/v1/monitored-measurements/"


def body(asset, **fields):
    return {"asset": asset.pk, "name": "vibration", "unit": "mm/s", "alarm_limit": 7.1, **fields}


def test_a_planner_puts_a_measurement_under_watch(as_user, planner, pump):
    response = as_user(planner).post(
        URL, body(pump, warning_limit=4.5, healthy_level=1.0), format="json"
    )

    assert response.status_code == 201, response.data
    data = response.data
    assert data["site"] == pump.site_id
    assert data["trend_status"] == TrendStatus.INSUFFICIENT
    assert data["open_proposal"] is None
    assert data["window_days"] == 21
    assert data["horizon_days"] == 30
    entry = AuditEntry.objects.get(action="monitored_measurement.create")
    assert entry.actor == planner


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"warning_limit": 8.0}, "warning_limit"),
        ({"healthy_level": 9.0}, "healthy_level"),
        ({"direction": "below", "healthy_level": 2.0}, "healthy_level"),
        ({"healthy_level": 5.0, "warning_limit": 3.0}, "warning_limit"),
        ({"alarm_limit": "NaN"}, "alarm_limit"),
        ({"alarm_limit": "Infinity"}, "alarm_limit"),
        ({"name": "x" * 57}, "name"),
        ({"window_days": 1}, "window_days"),
        ({"horizon_days": 1000}, "horizon_days"),
        ({"direction": "sideways"}, "direction"),
    ],
)
def test_bad_limits_are_refused_naming_the_field(as_user, planner, pump, fields, field):
    response = as_user(planner).post(URL, body(pump, **fields), format="json")

    assert response.status_code == 400
    assert field in str(response.data), response.data
    assert not MonitoredMeasurement.objects.exists()


def test_the_same_measurement_is_watched_once(as_user, planner, pump):
    monitored_measurement_save(asset=pump, name="vibration", alarm_limit=7.1)

    response = as_user(planner).post(URL, body(pump), format="json")

    assert response.status_code == 400
    assert MonitoredMeasurement.objects.count() == 1


def test_another_sites_asset_is_no_choice(as_user, planner, other_site):
    foreign = AssetFactory(site=other_site)

    response = as_user(planner).post(URL, body(foreign), format="json")

    assert response.status_code == 400
    assert "asset" in response.data


@pytest.mark.parametrize("role", ["technician", "viewer"])
def test_only_planners_write(as_user, request, pump, role):
    user = request.getfixturevalue(role)

    assert as_user(user).post(URL, body(pump), format="json").status_code == 403
    monitored = monitored_measurement_save(asset=pump, name="vibration", alarm_limit=7.1)
    assert as_user(user).get(f"{URL}{monitored.pk}/").status_code == 200


def test_a_new_limit_clears_the_projection_and_keeps_asset_and_name(as_user, planner, pump):
    monitored = monitored_measurement_save(asset=pump, name="vibration", alarm_limit=7.1)
    MonitoredMeasurement.objects.filter(pk=monitored.pk).update(
        trend_status=TrendStatus.APPROACHING, projected_at="2030-01-01T00:00:00Z"
    )
    client = as_user(planner)
    other = AssetFactory(site=pump.site)

    response = client.patch(f"{URL}{monitored.pk}/", {"alarm_limit": 9, "asset": other.pk})

    assert response.status_code == 200, response.data
    assert response.data["asset"] == pump.pk  # read-only once watched
    assert response.data["projected_at"] is None
    assert response.data["trend_status"] == TrendStatus.INSUFFICIENT
    refused = client.patch(f"{URL}{monitored.pk}/", {"name": "temperature"})
    assert refused.status_code == 400
    assert "name" in refused.data


def test_the_open_proposal_and_filters(as_user, viewer, pump):
    watched = monitored_measurement_save(asset=pump, name="vibration", alarm_limit=7.1)
    monitored_measurement_save(asset=pump, name="temperature", alarm_limit=90)
    MonitoredMeasurement.objects.filter(pk=watched.pk).update(trend_status=TrendStatus.APPROACHING)
    proposal = WorkOrderFactory(
        site=pump.site, asset=pump, condition="trend.vibration", status=Status.REQUESTED
    )
    client = as_user(viewer)

    listed = client.get(URL, {"trend_status": "approaching"}).data["results"]

    assert [(m["name"], m["open_proposal"]) for m in listed] == [("vibration", proposal.pk)]
    assert client.get(URL, {"trend_status": "sideways"}).status_code == 400
    assert len(client.get(URL, {"asset": pump.pk}).data["results"]) == 2


def test_another_sites_watched_measurements_are_not_seen(as_user, viewer, other_site):
    foreign = monitored_measurement_save(
        asset=AssetFactory(site=other_site), name="vibration", alarm_limit=7.1
    )
    client = as_user(viewer)

    assert client.get(URL).data["results"] == []
    assert client.get(f"{URL}{foreign.pk}/").status_code == 404
