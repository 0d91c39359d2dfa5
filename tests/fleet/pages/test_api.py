"""/api/v1/gateways/ with health fields and /api/v1/sensors/: fields, filters, scoping, errors."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEntry
from gateways.models import Gateway, Sensor
from tests.factories import GatewayFactory
from tests.fleet.pages.devices import seen

pytestmark = pytest.mark.django_db

MINUTE = timedelta(minutes=1)


def test_a_gateway_reads_with_its_health(as_user, planner, gateway, sensor):
    body = as_user(planner).get(f"/api/v1/gateways/{gateway.pk}/").json()
    assert body["status"] == "online"
    assert body["firmware"] == "2.4.1"
    assert body["battery"] == 81
    assert body["signal"] == -71
    assert body["uptime_seconds"] == 3600
    assert body["last_seen_at"] is not None and body["last_heartbeat_at"] is not None
    assert body["heartbeat_interval_seconds"] == 300
    assert body["heartbeat_grace_seconds"] == 600
    assert body["sensor_count"] == 1
    assert body["unmonitored_asset_count"] == 0
    assert "secret" not in body


def test_the_status_is_computed_when_asked_not_when_last_checked(as_user, planner, site):
    late = seen(GatewayFactory(site=site, name="late"), 6 * MINUTE)
    offline = seen(GatewayFactory(site=site, name="off"), 20 * MINUTE)
    never = GatewayFactory(site=site, name="never")
    rows = as_user(planner).get("/api/v1/gateways/").json()["results"]
    status = {row["name"]: row["status"] for row in rows}
    assert status == {late.name: "late", offline.name: "offline", never.name: "never_seen"}


def test_the_list_filters_by_status_and_refuses_an_unknown_one(as_user, planner, site, gateway):
    seen(GatewayFactory(site=site, name="off"), 20 * MINUTE)
    client = as_user(planner)
    names = [r["name"] for r in client.get("/api/v1/gateways/?status=offline").json()["results"]]
    assert names == ["off"]
    both = client.get("/api/v1/gateways/?status=online,offline").json()["results"]
    assert {r["name"] for r in both} == {"GW-01", "off"}
    refused = client.get("/api/v1/gateways/?status=asleep")
    assert refused.status_code == 400
    assert set(refused.json()) == {"status"}


def test_the_list_costs_the_same_queries_for_one_gateway_or_a_page(as_user, planner, site):
    client = as_user(planner)
    GatewayFactory(site=site)
    with CaptureQueriesContext(connection) as one:
        client.get("/api/v1/gateways/")
    for _ in range(6):
        GatewayFactory(site=site)
    with CaptureQueriesContext(connection) as seven:
        client.get("/api/v1/gateways/")
    assert len(seven) == len(one)


def test_a_planner_links_a_gateway_to_an_asset_of_its_site(as_user, planner, gateway, pump):
    response = as_user(planner).patch(
        f"/api/v1/gateways/{gateway.pk}/",
        {"asset": pump.pk, "model": "EG-200", "heartbeat_interval_seconds": 60},
        format="json",
    )
    assert response.status_code == 200, response.content
    gateway.refresh_from_db()
    assert (gateway.asset, gateway.model, gateway.heartbeat_interval_seconds) == (
        pump,
        "EG-200",
        60,
    )
    entry = AuditEntry.objects.filter(object_id=str(gateway.pk)).latest("pk")
    assert entry.changes["model"] == ["", "EG-200"]


def test_an_asset_of_another_site_is_refused_on_asset(
    as_user, planner_at_both_sites, gateway, foreign_asset
):
    response = as_user(planner_at_both_sites).patch(
        f"/api/v1/gateways/{gateway.pk}/", {"asset": foreign_asset.pk}, format="json"
    )
    assert response.json() == {"asset": ["The asset belongs to another site."]}


def test_an_asset_the_planner_cannot_see_is_refused_like_a_missing_one(
    as_user, planner, gateway, foreign_asset
):
    response = as_user(planner).patch(
        f"/api/v1/gateways/{gateway.pk}/", {"asset": foreign_asset.pk}, format="json"
    )
    assert response.status_code == 400
    assert "asset" in str(response.json())


def test_two_gateways_cannot_be_the_same_asset(as_user, planner, site, gateway, pump):
    other = GatewayFactory(site=site, name="GW-02")
    client = as_user(planner)
    assert client.patch(f"/api/v1/gateways/{gateway.pk}/", {"asset": pump.pk}).status_code == 200
    refused = client.patch(f"/api/v1/gateways/{other.pk}/", {"asset": pump.pk}, format="json")
    assert refused.status_code == 400
    assert "asset" in str(refused.json())


def test_an_interval_out_of_range_is_a_400_naming_it(as_user, planner, gateway):
    response = as_user(planner).patch(
        f"/api/v1/gateways/{gateway.pk}/", {"heartbeat_interval_seconds": 1}, format="json"
    )
    assert response.status_code == 400
    assert "heartbeat_interval_seconds" in str(response.json())


def test_interval_and_grace_too_short_for_signs_of_life_are_a_400(as_user, planner, gateway):
    response = as_user(planner).patch(
        f"/api/v1/gateways/{gateway.pk}/",
        {"heartbeat_interval_seconds": 30, "heartbeat_grace_seconds": 60},
        format="json",
    )
    assert response.status_code == 400
    assert "at least 120 s" in str(response.json())


def test_a_patch_answers_the_status_as_it_is_after_the_change(as_user, planner, gateway):
    Gateway.objects.filter(pk=gateway.pk).update(last_seen_at=timezone.now() - timedelta(minutes=6))
    answer = as_user(planner).patch(
        f"/api/v1/gateways/{gateway.pk}/", {"heartbeat_interval_seconds": 600}, format="json"
    )
    assert answer.status_code == 200
    assert answer.json()["status"] == "online"  # 6 minutes is within the new interval


def test_a_refused_creation_leaves_no_gateway_behind(as_user, planner, site, pump):
    taken = GatewayFactory(site=site, name="GW-01")
    Gateway.objects.filter(pk=taken.pk).update(asset=pump)
    before = Gateway.objects.count()
    response = as_user(planner).post(
        "/api/v1/gateways/", {"site": site.pk, "name": "GW-09", "asset": pump.pk}, format="json"
    )
    assert response.status_code == 400
    assert "asset" in str(response.json())
    assert Gateway.objects.count() == before


def test_a_gateway_is_created_with_its_equipment_fields(as_user, planner, site, pump):
    response = as_user(planner).post(
        "/api/v1/gateways/",
        {"site": site.pk, "name": "GW-09", "asset": pump.pk, "model": "EG-200"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["asset"], body["model"], body["status"]) == (pump.pk, "EG-200", "never_seen")
    assert body["secret"]


def test_a_gateway_gets_its_sparkplug_identity_through_the_api(as_user, planner, site, gateway):
    client = as_user(planner)
    created = client.post(
        "/api/v1/gateways/",
        {
            "site": site.pk,
            "name": "GW-10",
            "sparkplug_group_id": "plant-a",
            "sparkplug_edge_node_id": "edge-1",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assert (created.json()["sparkplug_group_id"], created.json()["sparkplug_edge_node_id"]) == (
        "plant-a",
        "edge-1",
    )
    taken = client.patch(
        f"/api/v1/gateways/{gateway.pk}/",
        {"sparkplug_group_id": "plant-a", "sparkplug_edge_node_id": "edge-1"},
        format="json",
    )
    assert taken.status_code == 400
    assert "Another gateway already has this Sparkplug group and edge node id" in str(taken.json())
    half = client.patch(
        f"/api/v1/gateways/{gateway.pk}/", {"sparkplug_group_id": "plant-a"}, format="json"
    )
    assert half.status_code == 400
    assert "sparkplug_edge_node_id" in str(half.json())
    for group, reason in (("STATE", "reserved"), ("a/b", "topic level"), ("a+", "topic level")):
        refused = client.patch(
            f"/api/v1/gateways/{gateway.pk}/",
            {"sparkplug_group_id": group, "sparkplug_edge_node_id": "edge-2"},
            format="json",
        )
        assert refused.status_code == 400, group
        assert "sparkplug_group_id" in refused.json(), refused.json()
        assert reason in str(refused.json()["sparkplug_group_id"])
    gateway.refresh_from_db()
    assert (gateway.sparkplug_group_id, gateway.sparkplug_edge_node_id) == ("", "")


# -- sensors


def test_planners_and_technicians_read_sensors_and_viewers_do_not(
    as_user, planner, technician, viewer, sensor
):
    for user in (planner, technician):
        body = as_user(user).get("/api/v1/sensors/").json()
        assert [row["code"] for row in body["results"]] == ["vib-1"]
    assert as_user(viewer).get("/api/v1/sensors/").status_code == 403


def test_a_sensor_reads_with_its_state(as_user, technician, planner, sensor, pump, gateway):
    body = as_user(technician).get(f"/api/v1/sensors/{sensor.pk}/").json()
    # A gateway's id is its webhook URL: planners read it, technicians its name only.
    assert (body["gateway"], body["gateway_name"]) == (None, gateway.name)
    assert as_user(planner).get(f"/api/v1/sensors/{sensor.pk}/").json()["gateway"] == str(
        gateway.pk
    )
    assert body["asset"] == pump.pk
    assert body["site"] == gateway.site_id
    assert body["state"] == "never_seen"
    assert {"state_since", "last_sample_at", "last_reported_at", "battery", "signal"} <= set(body)


def test_another_sites_sensor_is_a_404(as_user, planner, foreign_gateway):
    from gateways.services import sensor_create

    foreign = sensor_create(gateway=foreign_gateway, code="t-1")
    assert as_user(planner).get(f"/api/v1/sensors/{foreign.pk}/").status_code == 404
    response = as_user(planner).patch(f"/api/v1/sensors/{foreign.pk}/", {"name": "x"})
    assert response.status_code == 404


def test_a_planner_records_a_sensor_watching_an_asset(as_user, planner, gateway, pump):
    response = as_user(planner).post(
        "/api/v1/sensors/",
        {
            "gateway": str(gateway.pk),
            "code": "temp-1",
            "measures": "temperature",
            "unit": "°C",
            "asset": pump.pk,
            "stale_after_seconds": 900,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    sensor = Sensor.objects.get(code="temp-1")
    assert (sensor.asset, sensor.stale_after_seconds, sensor.state) == (pump, 900, "never_seen")
    assert AuditEntry.objects.filter(
        object_type="gateways.sensor", object_id=str(sensor.pk)
    ).exists()


def test_technicians_may_not_record_sensors(as_user, technician, gateway):
    response = as_user(technician).post(
        "/api/v1/sensors/", {"gateway": str(gateway.pk), "code": "x"}, format="json"
    )
    assert response.status_code == 403


def test_a_code_taken_at_the_gateway_is_a_400_on_code(as_user, planner, gateway, sensor):
    client = as_user(planner)
    response = client.post(
        "/api/v1/sensors/", {"gateway": str(gateway.pk), "code": "vib-1"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"code": ["This gateway already has a sensor with this code."]}
    other = client.post("/api/v1/sensors/", {"gateway": str(gateway.pk), "code": "vib-2"})
    patched = client.patch(f"/api/v1/sensors/{other.json()['id']}/", {"code": "vib-1"})
    assert patched.status_code == 400
    assert "code" in str(patched.json())


def test_the_same_code_at_another_gateway_is_fine(as_user, planner, site, sensor):
    other = GatewayFactory(site=site, name="GW-02")
    response = as_user(planner).post(
        "/api/v1/sensors/", {"gateway": str(other.pk), "code": "vib-1"}, format="json"
    )
    assert response.status_code == 201


def test_a_sensor_watching_another_sites_asset_is_refused_on_asset(
    as_user, planner_at_both_sites, gateway, foreign_asset, sensor
):
    client = as_user(planner_at_both_sites)
    created = client.post(
        "/api/v1/sensors/",
        {"gateway": str(gateway.pk), "code": "x-1", "asset": foreign_asset.pk},
        format="json",
    )
    assert created.status_code == 400
    assert created.json() == {"asset": ["The asset belongs to another site."]}
    patched = client.patch(f"/api/v1/sensors/{sensor.pk}/", {"asset": foreign_asset.pk})
    assert patched.status_code == 400
    assert "asset" in str(patched.json())


def test_a_gateway_of_another_site_is_refused_on_gateway(as_user, planner, foreign_gateway):
    response = as_user(planner).post(
        "/api/v1/sensors/", {"gateway": str(foreign_gateway.pk), "code": "x"}, format="json"
    )
    assert response.status_code == 400
    assert "gateway" in str(response.json())


def test_a_sensor_stays_behind_its_gateway(as_user, planner, site, sensor):
    other = GatewayFactory(site=site, name="GW-02")
    response = as_user(planner).patch(
        f"/api/v1/sensors/{sensor.pk}/", {"gateway": str(other.pk)}, format="json"
    )
    assert response.status_code == 400
    assert "gateway" in str(response.json())


def test_the_state_cannot_be_written(as_user, planner, sensor):
    response = as_user(planner).patch(
        f"/api/v1/sensors/{sensor.pk}/", {"state": "live", "name": "Bearing DE"}, format="json"
    )
    assert response.status_code == 200
    sensor.refresh_from_db()
    assert (sensor.state, sensor.name) == ("never_seen", "Bearing DE")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("state=never_seen", ["vib-1"]),
        ("state=live", []),
        ("asset={pump}", ["vib-1"]),
        ("gateway={gateway}", ["vib-1"]),
        ("site={site}", ["vib-1"]),
    ],
)
def test_sensors_filter_by_state_asset_gateway_and_site(
    as_user, planner, sensor, pump, gateway, site, query, expected
):
    url = "/api/v1/sensors/?" + query.format(pump=pump.pk, gateway=gateway.pk, site=site.pk)
    rows = as_user(planner).get(url).json()["results"]
    assert [r["code"] for r in rows] == expected


@pytest.mark.parametrize("query", ["state=asleep", "site={other}", "asset={foreign}", "site=abc"])
def test_sensor_filters_refuse_unknown_or_foreign_values(
    as_user, planner, sensor, other_site, foreign_asset, query
):
    url = "/api/v1/sensors/?" + query.format(other=other_site.pk, foreign=foreign_asset.pk)
    assert as_user(planner).get(url).status_code == 400


def test_unknown_sensor_fields_in_a_body_never_break_it(as_user, planner, gateway):
    response = as_user(planner).post(
        "/api/v1/sensors/",
        {"gateway": str(gateway.pk), "code": "", "stale_after_seconds": "soon"},
        format="json",
    )
    assert response.status_code == 400
    assert {"code", "stale_after_seconds"} <= set(response.json())


def test_a_gateway_counts_the_assets_its_sensors_leave_unmonitored(
    as_user, planner, gateway, sensor, pump
):
    from django.utils import timezone

    from assets.models import Asset
    from gateways.services import sensor_create

    sensor_create(gateway=gateway, code="vib-2", asset=pump)  # the same asset, counted once
    Asset.objects.filter(pk=pump.pk).update(not_monitored_since=timezone.now())
    body = as_user(planner).get(f"/api/v1/gateways/{gateway.pk}/").json()
    assert (body["sensor_count"], body["unmonitored_asset_count"]) == (2, 1)
