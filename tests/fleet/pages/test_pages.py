"""What people see: the fleet view, "not monitored since" on the pages, and the admin."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assets.models import Asset
from audit.models import AuditEntry
from fleet import selectors as fleet_selectors
from gateways.models import ConnectivityEvent, FirmwareTarget, Sensor
from tests.factories import GatewayFactory, WorkOrderFactory
from tests.fleet.pages.devices import seen, sensor_heard
from workorders.choices import Status

pytestmark = pytest.mark.django_db

MINUTE = timedelta(minutes=1)
FLEET = "/admin/planner/fleet/"
SILENT_SINCE = datetime(2026, 3, 2, 13, 5, tzinfo=UTC)  # 14:05 in Berlin (CET)


def not_monitored(asset, since=SILENT_SINCE):
    Asset.objects.filter(pk=asset.pk).update(not_monitored_since=since)


# -- "not monitored since"


def test_the_asset_page_says_since_when_it_is_not_monitored(client_for, technician, pump, sensor):
    not_monitored(pump)
    page = client_for(technician).get(f"/tech/assets/{pump.pk}/").content.decode()
    assert 'id="not-monitored"' in page
    assert "Not monitored since Mon 2 Mar 2026 14:05 CET" in page


def test_an_asset_whose_sensors_never_reported_says_never_monitored(
    client_for, technician, pump, sensor
):
    page = client_for(technician).get(f"/tech/assets/{pump.pk}/").content.decode()
    assert "Never monitored" in page


def test_a_monitored_asset_and_an_unwatched_one_say_nothing(
    client_for, technician, site, pump, sensor
):
    sensor_heard(sensor)
    page = client_for(technician).get(f"/tech/assets/{pump.pk}/").content.decode()
    assert 'id="not-monitored"' not in page
    from tests.factories import AssetFactory

    unwatched = AssetFactory(site=site, tag="P-102")
    page = client_for(technician).get(f"/tech/assets/{unwatched.pk}/").content.decode()
    assert 'id="not-monitored"' not in page


def test_the_work_order_page_says_its_asset_is_not_monitored(
    client_for, technician, site, pump, sensor
):
    not_monitored(pump)
    work_order = WorkOrderFactory(site=site, asset=pump, assignee=technician)
    page = client_for(technician).get(f"/tech/work-orders/{work_order.pk}/").content.decode()
    assert "Not monitored since Mon 2 Mar 2026 14:05 CET" in page


def test_triage_rows_say_the_asset_is_not_monitored(client_for, planner, site, pump, sensor):
    not_monitored(pump)
    WorkOrderFactory(site=site, asset=pump, status=Status.REQUESTED, title="Noisy pump")
    page = client_for(planner).get(reverse("admin:planner-triage")).content.decode()
    assert "Not monitored since 2 Mar 2026 14:05 CET" in page


def test_triage_rows_say_never_monitored(client_for, planner, site, pump, sensor):
    WorkOrderFactory(site=site, asset=pump, status=Status.REQUESTED, title="Noisy pump")
    page = client_for(planner).get(reverse("admin:planner-triage")).content.decode()
    assert "Never monitored" in page


def test_the_admin_asset_page_says_it(client_for, planner, pump, sensor):
    url = reverse("admin:assets_asset_change", args=[pump.pk])
    assert "Never monitored" in client_for(planner).get(url).content.decode()
    not_monitored(pump)
    assert (
        "Not monitored since 2 Mar 2026 14:05 CET" in client_for(planner).get(url).content.decode()
    )


def test_the_apis_give_not_monitored_since(as_user, planner, site, pump, sensor):
    not_monitored(pump)
    work_order = WorkOrderFactory(site=site, asset=pump)
    client = as_user(planner)
    asset = client.get(f"/api/v1/assets/{pump.pk}/").json()
    assert asset["not_monitored_since"] == "2026-03-02T13:05:00Z"
    wo = client.get(f"/api/v1/work-orders/{work_order.pk}/").json()
    assert wo["not_monitored_since"] == "2026-03-02T13:05:00Z"
    without_asset = WorkOrderFactory(site=site, asset=None)
    assert (
        client.get(f"/api/v1/work-orders/{without_asset.pk}/").json()["not_monitored_since"] is None
    )


def test_never_monitored_is_exactly_active_sensors_none_of_which_reported(site, pump, gateway):
    from gateways.services import sensor_create

    def flagged():
        return (
            fleet_selectors.with_monitoring(Asset.objects.filter(pk=pump.pk)).get().never_monitored
        )

    assert flagged() is False  # watched by no sensor
    first = sensor_create(gateway=gateway, code="a", asset=pump)
    assert flagged() is True
    Sensor.objects.filter(pk=first.pk).update(is_active=False)
    assert flagged() is False
    sensor_heard(sensor_create(gateway=gateway, code="b", asset=pump))
    assert flagged() is False


# -- the fleet view


@pytest.fixture
def fleet(site, other_site, gateway):
    """At North: GW-01 online, one late, two offline, one never seen; at South one offline."""
    seen(GatewayFactory(site=site, name="late"), 6 * MINUTE, battery_percent=9, firmware="2.3.0")
    seen(GatewayFactory(site=site, name="off-1"), 20 * MINUTE, signal_dbm=-105)
    seen(GatewayFactory(site=site, name="off-2"), 3 * 60 * MINUTE)
    GatewayFactory(site=site, name="never")
    seen(GatewayFactory(site=other_site, name="south-off"), 30 * MINUTE)
    return gateway


def test_the_fleet_view_counts_gateways_by_status_at_the_planners_sites(client_for, planner, fleet):
    response = client_for(planner).get(FLEET)
    assert response.status_code == 200
    counts = response.context["fleet"].counts
    assert counts == {"online": 1, "late": 1, "offline": 2, "never_seen": 1}
    page = response.content.decode()
    assert "south-off" not in page
    assert [g.name for g in response.context["fleet"].page.object_list][:2] == ["off-1", "off-2"]


def test_the_fleet_view_filters_by_site(client_for, planner_at_both_sites, fleet, other_site):
    response = client_for(planner_at_both_sites).get(f"{FLEET}?site={other_site.pk}")
    assert response.context["fleet"].counts["offline"] == 1
    assert [g.name for g in response.context["fleet"].page.object_list] == ["south-off"]


def test_another_sites_id_or_nonsense_is_a_clear_400(client_for, planner, fleet, other_site):
    for query in (f"site={other_site.pk}", "days=12", "site=abc", "page=0", "page=x"):
        response = client_for(planner).get(f"{FLEET}?{query}")
        assert response.status_code == 400, query
        assert 'id="fleet-errors"' in response.content.decode()
        assert "south-off" not in response.content.decode()


def test_the_fleet_view_draws_titled_charts_and_defines_availability(client_for, planner, fleet):
    page = client_for(planner).get(f"{FLEET}?days=30").content.decode()
    for title in (
        "Gateways by status now",
        "Gateways by battery level, percent",
        "Gateways by signal strength, dBm",
        "Gateways by firmware version",
    ):
        assert f"<title>{title}</title>" in page
    assert "Availability = time a gateway was online or late" in page
    assert "Availability over the last 30 days" in page


def test_the_fleet_view_shows_availability_from_events(client_for, planner, gateway):
    ConnectivityEvent.objects.create(
        gateway=gateway,
        from_state="never_seen",
        to_state="online",
        at=datetime.now(UTC) - timedelta(days=3),
    )
    ConnectivityEvent.objects.create(
        gateway=gateway,
        from_state="online",
        to_state="offline",
        at=datetime.now(UTC) - timedelta(days=2),
    )
    ConnectivityEvent.objects.create(
        gateway=gateway,
        from_state="offline",
        to_state="online",
        at=datetime.now(UTC) - timedelta(days=1),
    )
    response = client_for(planner).get(f"{FLEET}?days=7")
    row = response.context["fleet"].page.object_list[0]
    assert row.availability.percent == pytest.approx(66.7, abs=0.1)
    assert "66.7 %" in response.content.decode()


def test_the_fleet_view_lists_one_page_in_a_fixed_number_of_queries(
    client_for, planner, site, monkeypatch
):
    monkeypatch.setattr(fleet_selectors, "PAGE_SIZE", 3)
    client = client_for(planner)
    for n in range(2):
        GatewayFactory(site=site, name=f"g{n}")
    with CaptureQueriesContext(connection) as few:
        client.get(FLEET)
    for n in range(2, 9):
        GatewayFactory(site=site, name=f"g{n}")
    with CaptureQueriesContext(connection) as many:
        response = client.get(FLEET)
    assert len(many) == len(few)
    assert len(response.context["fleet"].page.object_list) == 3
    assert response.context["fleet"].page.paginator.num_pages == 3
    assert "Next page" in response.content.decode()
    second = client.get(f"{FLEET}?page=2")
    assert second.status_code == 200
    assert second.context["fleet"].page.number == 2


def test_technicians_cannot_open_the_fleet_view(client_for, technician):
    assert client_for(technician).get(FLEET).status_code == 302


def test_the_planner_nav_links_the_fleet_view(client_for, planner):
    page = client_for(planner).get(reverse("admin:planner-dashboard")).content.decode()
    assert f'href="{FLEET}"' in page


# -- admin


def test_the_admin_pages_render_for_a_planner(client_for, planner, gateway, sensor):
    FirmwareTarget.objects.create(model="EG-200", version="2.4.1")
    ConnectivityEvent.objects.create(
        gateway=gateway, from_state="never_seen", to_state="online", at=datetime.now(UTC)
    )
    client = client_for(planner)
    for name, args in [
        ("gateways_gateway_changelist", []),
        ("gateways_gateway_change", [gateway.pk]),
        ("gateways_sensor_changelist", []),
        ("gateways_sensor_change", [sensor.pk]),
        ("gateways_sensor_add", []),
        ("gateways_connectivityevent_changelist", []),
        ("gateways_firmwaretarget_changelist", []),
    ]:
        response = client.get(reverse(f"admin:{name}", args=args))
        assert response.status_code == 200, name
    change = client.get(reverse("admin:gateways_gateway_change", args=[gateway.pk])).content
    page = change.decode()
    for shown in ("online", "2.4.1", "81 %", "-71 dBm", "never_seen → online", "vib-1"):
        assert shown in page, shown


def test_a_planner_adds_a_sensor_in_the_admin_through_the_service(
    client_for, planner, gateway, pump
):
    response = client_for(planner).post(
        reverse("admin:gateways_sensor_add"),
        {
            "gateway": gateway.pk,
            "code": "temp-9",
            "name": "",
            "measures": "temperature",
            "unit": "°C",
            "asset": pump.pk,
            "is_active": "on",
            "stale_after_seconds": "600",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    sensor = Sensor.objects.get(code="temp-9")
    assert sensor.asset == pump
    assert AuditEntry.objects.filter(
        object_type="gateways.sensor", object_id=str(sensor.pk)
    ).exists()


def test_a_duplicate_code_in_the_admin_is_a_form_error(client_for, planner, gateway, sensor):
    response = client_for(planner).post(
        reverse("admin:gateways_sensor_add"),
        {"gateway": gateway.pk, "code": "vib-1", "stale_after_seconds": "600", "is_active": "on"},
    )
    assert response.status_code == 200
    assert Sensor.objects.filter(code="vib-1").count() == 1


def test_planners_read_firmware_targets_and_superusers_set_them(client_for, planner, superuser):
    add = reverse("admin:gateways_firmwaretarget_add")
    assert client_for(planner).get(add).status_code == 403
    response = client_for(superuser).post(add, {"model": "EG-200", "version": "2.5.0", "notes": ""})
    assert response.status_code == 302
    assert FirmwareTarget.objects.get().version == "2.5.0"


def test_a_planner_links_a_gateway_to_an_asset_in_the_admin(client_for, planner, gateway, pump):
    url = reverse("admin:gateways_gateway_change", args=[gateway.pk])
    response = client_for(planner).post(
        url,
        {
            "name": gateway.name,
            "is_active": "on",
            "rate_limit_per_minute": "",
            "asset": pump.pk,
            "model": "EG-200",
            "heartbeat_interval_seconds": "60",
            "heartbeat_grace_seconds": "120",
            "sensors-TOTAL_FORMS": "1",
            "sensors-INITIAL_FORMS": "1",
            "sensors-MIN_NUM_FORMS": "0",
            "sensors-MAX_NUM_FORMS": "1000",
            "secrets-TOTAL_FORMS": "1",
            "secrets-INITIAL_FORMS": "1",
            "secrets-MIN_NUM_FORMS": "0",
            "secrets-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    gateway.refresh_from_db()
    assert (gateway.asset, gateway.model, gateway.heartbeat_interval_seconds) == (
        pump,
        "EG-200",
        60,
    )


@pytest.mark.parametrize(("largest", "top"), [(1, 4), (2, 4), (3, 4), (5, 8), (10, 12), (20, 20)])
def test_count_histograms_have_whole_number_ticks(largest, top):
    from cmms import charts

    chart = charts.stacked_columns(
        label="x", categories=["a", "b"], series=[("n", [largest, 0], "#1c7ed6")], counts=True
    )
    ticks = [float(t.text) for t in chart.texts if t.anchor == "end"]
    assert max(ticks) == top
    assert all(tick.is_integer() for tick in ticks)
