"""Stale sensors open their own work only while their gateway is online; monitoring lost is
kept on the assets they watch."""

import pytest

from assets.choices import Criticality
from gateways.choices import SensorState
from gateways.models import ConnectivityEvent
from tests.factories import AssetFactory
from tests.fleet.checks.devices import (
    OFFLINE_AT,
    SECOND,
    STALE_AFTER,
    T0,
    heard,
    make_gateway,
    make_sensor,
)
from workorders.choices import DeviceIssue, EventKind, Priority, Status
from workorders.models import WorkOrder

STALE_AT = T0 + (STALE_AFTER + 1) * SECOND


def stale_work():
    return WorkOrder.objects.filter(device_issue=DeviceIssue.SENSOR_STALE)


def keep_gateway_online(gateway, at):
    heard(gateway, at)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("age", "expected"),
    [(STALE_AFTER - 1, "live"), (STALE_AFTER, "live"), (STALE_AFTER + 1, "stale")],
)
def test_a_sensor_is_stale_once_its_last_sample_is_older_than_its_stale_after(
    clock, gateway, sensor, age, expected
):
    now = T0 + age * SECOND
    keep_gateway_online(gateway, now)

    clock.check(now)

    sensor.refresh_from_db()
    assert sensor.state == expected


@pytest.mark.django_db
def test_a_stale_sensor_behind_an_online_gateway_opens_one_work_order(
    clock, site, gateway, sensor, pump, iiot_technician
):
    for minute in range(10):
        now = STALE_AT + minute * 60 * SECOND
        keep_gateway_online(gateway, now)
        clock.check(now)

    work_order = stale_work().get()
    assert (work_order.sensor, work_order.gateway, work_order.asset) == (sensor, gateway, pump)
    assert work_order.title == "Sensor vib-1 on P-101 stale since 2026-03-10 10:00"
    assert work_order.assignee == iiot_technician
    assert work_order.priority == Priority.MEDIUM  # the pump is criticality B
    assert ConnectivityEvent.objects.filter(sensor=sensor).count() == 1


@pytest.mark.django_db
def test_a_sensor_on_a_critical_asset_gets_high_priority(clock, site, gateway):
    asset = AssetFactory(site=site, criticality=Criticality.A)
    make_sensor(gateway, "t-1", asset=asset)
    keep_gateway_online(gateway, STALE_AT)

    clock.check(STALE_AT)

    assert stale_work().get().priority == Priority.HIGH


@pytest.mark.django_db
def test_sensors_behind_an_offline_gateway_are_stale_but_the_silence_work_covers_them(
    clock, gateway, sensor
):
    clock.check(OFFLINE_AT)

    sensor.refresh_from_db()
    assert sensor.state == SensorState.STALE
    assert not stale_work().exists()
    assert WorkOrder.objects.get().device_issue == DeviceIssue.GATEWAY_SILENT


@pytest.mark.django_db
def test_a_sensor_still_silent_when_its_gateway_comes_back_then_gets_its_own_work(
    clock, gateway, sensor
):
    clock.check(OFFLINE_AT)
    back = T0 + 2 * 3600 * SECOND
    keep_gateway_online(gateway, back)  # the gateway reports; the sensor has nothing new

    clock.check(back)
    clock.check(back + 60 * SECOND)

    assert stale_work().count() == 1


@pytest.mark.django_db
def test_a_sensor_live_again_settles_its_stale_work(clock, gateway, sensor):
    keep_gateway_online(gateway, STALE_AT)
    clock.check(STALE_AT)
    back = STALE_AT + 600 * SECOND
    keep_gateway_online(gateway, back)
    heard(sensor, back)

    clock.check(back)

    work_order = stale_work().get()
    assert work_order.status == Status.CANCELLED
    assert work_order.events.get(kind=EventKind.CONNECTIVITY).message.startswith(
        "Sensor heard again at 2026-03-10 11:10, silent for 1 h 10 min."
    )


@pytest.mark.django_db
def test_stale_work_cancelled_by_a_planner_is_not_opened_again_while_the_sensor_stays_stale(
    clock, gateway, sensor, planner
):
    from workorders import services

    keep_gateway_online(gateway, STALE_AT)
    clock.check(STALE_AT)
    services.work_order_transition(
        work_order=stale_work().get(), to=Status.CANCELLED, by=planner, reason="known"
    )

    later = STALE_AT + 3600 * SECOND
    keep_gateway_online(gateway, later)
    clock.check(later)

    assert stale_work().count() == 1


@pytest.mark.django_db
def test_a_sensor_never_heard_from_is_never_seen_and_opens_no_work(clock, gateway, pump):
    make_sensor(gateway, "new", asset=pump, last_sample_at=None)
    keep_gateway_online(gateway, STALE_AT)

    clock.check(STALE_AT)

    assert not stale_work().exists()


# ---------------------------------------------------------------- not monitored since


def not_monitored_since(asset):
    asset.refresh_from_db()
    return asset.not_monitored_since


@pytest.mark.django_db
def test_an_asset_whose_sensors_are_all_silent_is_not_monitored_since_the_last_sample(
    clock, site, gateway, pump
):
    make_sensor(gateway, "a", asset=pump, last_sample_at=T0 - 600 * SECOND)
    make_sensor(gateway, "b", asset=pump, last_sample_at=T0)
    unwatched = AssetFactory(site=site)
    now = T0 + (STALE_AFTER + 1) * SECOND
    keep_gateway_online(gateway, now)

    clock.check(now)

    assert not_monitored_since(pump) == T0
    assert not_monitored_since(unwatched) is None


@pytest.mark.django_db
def test_one_live_sensor_keeps_the_asset_monitored(clock, gateway, pump):
    make_sensor(gateway, "a", asset=pump, last_sample_at=T0 - 3 * 3600 * SECOND)
    make_sensor(gateway, "b", asset=pump, last_sample_at=T0)
    keep_gateway_online(gateway, T0 + 60 * SECOND)

    clock.check(T0 + 60 * SECOND)

    assert not_monitored_since(pump) is None


@pytest.mark.django_db
def test_an_offline_gateway_leaves_the_assets_it_watches_unmonitored_until_it_is_back(
    clock, gateway, sensor, pump
):
    clock.check(OFFLINE_AT)
    assert not_monitored_since(pump) == T0

    back = T0 + 2 * 3600 * SECOND
    keep_gateway_online(gateway, back)
    heard(sensor, back)
    clock.check(back)

    assert not_monitored_since(pump) is None


@pytest.mark.django_db
def test_an_asset_watched_by_sensors_of_two_gateways_is_monitored_while_one_reports(
    clock, site, gateway, sensor, pump
):
    other = make_gateway(site, "GW-N2")
    make_sensor(other, "vib-2", asset=pump)
    keep_gateway_online(other, OFFLINE_AT)
    heard(make_sensor(other, "x"), OFFLINE_AT)
    other_sensor = other.sensors.get(code="vib-2")
    heard(other_sensor, OFFLINE_AT)

    clock.check(OFFLINE_AT)

    assert not_monitored_since(pump) is None


@pytest.mark.django_db
def test_an_asset_whose_only_sensors_never_reported_stays_empty(clock, gateway, pump):
    make_sensor(gateway, "new", asset=pump, last_sample_at=None)

    clock.check(OFFLINE_AT)

    assert not_monitored_since(pump) is None
