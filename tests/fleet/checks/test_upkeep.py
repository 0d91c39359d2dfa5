"""Low batteries (by level or by trend) and outdated firmware become work, once."""

import logging
from datetime import timedelta

import pytest

from fleet.upkeep import check_upkeep, parse_version, projected_empty
from gateways.models import BatterySample, FirmwareTarget, Gateway, Sensor
from tests.factories import move_to
from tests.fleet.checks.devices import T0, make_gateway, make_sensor
from workorders.choices import DeviceIssue, EventKind, Priority, Status
from workorders.models import WorkOrder

DAY = timedelta(days=1)


def battery_work():
    return WorkOrder.objects.filter(device_issue=DeviceIssue.BATTERY_LOW)


def firmware_work():
    return WorkOrder.objects.filter(device_issue=DeviceIssue.FIRMWARE_OUTDATED)


def report_battery(device, percent, at=T0):
    model = Gateway if isinstance(device, Gateway) else Sensor
    reported = {"last_heartbeat_at": at} if model is Gateway else {"last_reported_at": at}
    model.objects.filter(pk=device.pk).update(battery_percent=percent, **reported)


def samples(gateway, points, sensor=None):
    """Battery samples: (days before T0, percent) pairs."""
    BatterySample.objects.bulk_create(
        BatterySample(gateway=gateway, sensor=sensor, at=T0 - days * DAY, percent=percent)
        for days, percent in points
    )


# ---------------------------------------------------------------- the trend, pure


@pytest.mark.parametrize(
    ("points", "empty_in_days"),
    [
        ([(20, 100), (10, 70), (0, 40)], 40 / 3),  # 3 % a day, 40 % left
        ([(2, 50), (1, 48), (0, 46)], 23),
        ([(20, 100), (10, 100), (0, 100)], None),  # flat
        ([(20, 40), (10, 70), (0, 100)], None),  # rising
        ([(10, 70), (0, 40)], None),  # two samples
        ([(0.5, 50), (0.25, 40), (0, 30)], None),  # spanning less than a day
    ],
)
def test_the_least_squares_trend_projects_when_the_battery_is_empty(points, empty_in_days):
    empty_at = projected_empty([(T0 - days * DAY, p) for days, p in points], now=T0)
    if empty_in_days is None:
        assert empty_at is None
    else:
        assert abs((empty_at - T0) / DAY - empty_in_days) < 1e-6


# ---------------------------------------------------------------- battery work


@pytest.mark.django_db
def test_a_gateway_at_the_low_level_gets_one_battery_work_order(clock, site, iiot_technician):
    gateway = make_gateway(site)
    report_battery(gateway, 20)

    check_upkeep(now=T0)
    result = check_upkeep(now=T0 + 3600 * timedelta(seconds=1))

    work_order = battery_work().get()
    assert result.opened == []
    assert work_order.title == "Replace battery: gateway GW-N1 (at 20 %)"
    assert (work_order.gateway, work_order.sensor) == (gateway, None)
    assert work_order.assignee == iiot_technician
    assert work_order.priority == Priority.MEDIUM


@pytest.mark.django_db
def test_a_battery_above_the_level_without_a_falling_trend_opens_nothing(clock, site):
    gateway = make_gateway(site)
    report_battery(gateway, 21)
    samples(gateway, [(20, 22), (10, 22), (0, 21)])

    check_upkeep(now=T0)

    assert not battery_work().exists()


@pytest.mark.django_db
def test_a_falling_trend_opens_work_due_two_days_before_the_projected_empty_date(clock, site):
    gateway = make_gateway(site)
    report_battery(gateway, 40)
    samples(gateway, [(20, 100), (10, 70), (0, 40)])  # empty in 13.3 days, within 14

    check_upkeep(now=T0)

    work_order = battery_work().get()
    empty_at = T0 + DAY * 40 / 3
    assert abs((work_order.due_at - (empty_at - 2 * DAY)).total_seconds()) < 1
    assert work_order.title == "Replace battery: gateway GW-N1 (empty around 2026-03-23)"


@pytest.mark.django_db
def test_a_trend_emptying_beyond_the_lead_time_opens_nothing_yet(clock, site):
    gateway = make_gateway(site)
    report_battery(gateway, 60)
    samples(gateway, [(20, 100), (10, 80), (0, 60)])  # empty in 30 days

    check_upkeep(now=T0)

    assert not battery_work().exists()


@pytest.mark.django_db
def test_a_battery_about_to_die_is_due_now_not_in_the_past(clock, site):
    gateway = make_gateway(site)
    report_battery(gateway, 25)
    samples(gateway, [(2, 45), (1, 35), (0, 25)])  # empty in 2.5 days

    check_upkeep(now=T0)

    assert battery_work().get().due_at >= T0


@pytest.mark.django_db
def test_a_sensor_battery_gets_its_own_work_once(clock, site, pump):
    gateway = make_gateway(site)
    sensor = make_sensor(gateway, asset=pump)
    report_battery(sensor, 5)
    report_battery(gateway, 90)

    check_upkeep(now=T0)
    check_upkeep(now=T0 + DAY)

    work_order = battery_work().get()
    assert (work_order.gateway, work_order.sensor, work_order.asset) == (gateway, sensor, pump)
    assert work_order.title == "Replace battery: sensor vib-1 on P-101 (at 5 %)"


@pytest.mark.django_db
def test_a_replaced_battery_does_not_reopen_work_from_the_old_batterys_trend(clock, site, planner):
    gateway = make_gateway(site)
    report_battery(gateway, 40)
    samples(gateway, [(20, 100), (10, 70), (0, 40)])
    check_upkeep(now=T0)
    clock.at(T0 + DAY)
    move_to(battery_work().get(), Status.COMPLETED, by=planner)  # replaced
    # Not reported since: the old level still shows.
    check_upkeep(now=T0 + DAY + timedelta(hours=1))
    # The new battery reports; its one sample makes no trend yet.
    report_battery(gateway, 100, at=T0 + 2 * DAY)
    samples(gateway, [(-2, 100)])

    check_upkeep(now=T0 + 2 * DAY + timedelta(hours=1))

    assert battery_work().count() == 1


@pytest.mark.django_db
def test_old_battery_samples_are_forgotten(clock, site, settings):
    gateway = make_gateway(site)
    samples(gateway, [(91, 100), (89, 99)])

    result = check_upkeep(now=T0)

    assert result.samples_deleted == 1
    assert list(BatterySample.objects.values_list("percent", flat=True)) == [99]


# ---------------------------------------------------------------- firmware


@pytest.fixture
def target():
    return FirmwareTarget.objects.create(model="EG-100", version="2.10.0")


@pytest.mark.django_db
def test_a_gateway_behind_its_models_firmware_target_gets_one_work_order(clock, site, target):
    gateway = make_gateway(site, model="EG-100")
    Gateway.objects.filter(pk=gateway.pk).update(firmware="2.9.3")

    check_upkeep(now=T0)
    check_upkeep(now=T0 + DAY)

    work_order = firmware_work().get()
    assert work_order.title == "Update firmware of GW-N1: 2.9.3 -> 2.10.0"
    assert work_order.priority == Priority.LOW
    assert work_order.due_at == T0 + 30 * DAY


@pytest.mark.django_db
@pytest.mark.parametrize("firmware", ["2.10.0", "2.10.1", "v2.10.0", ""])
def test_a_gateway_at_or_past_its_target_or_not_reporting_gets_no_work(
    clock, site, target, firmware
):
    gateway = make_gateway(site, model="EG-100")
    Gateway.objects.filter(pk=gateway.pk).update(firmware=firmware)

    check_upkeep(now=T0)

    assert not firmware_work().exists()


@pytest.mark.django_db
def test_a_gateway_of_a_model_without_a_target_gets_no_work(clock, site, target):
    gateway = make_gateway(site, model="EG-200")
    Gateway.objects.filter(pk=gateway.pk).update(firmware="0.1")

    check_upkeep(now=T0)

    assert not firmware_work().exists()


@pytest.mark.django_db
def test_an_unparsable_version_is_not_compared_and_is_logged(clock, site, target, caplog):
    gateway = make_gateway(site, model="EG-100")
    Gateway.objects.filter(pk=gateway.pk).update(firmware="build-2024-x")

    with caplog.at_level(logging.WARNING, logger="fleet.upkeep"):
        result = check_upkeep(now=T0)

    assert not firmware_work().exists()
    assert result.unparsable_versions == [gateway.pk]
    assert "build-2024-x" in caplog.text


def test_versions_compare_by_their_numbers_not_their_text():
    assert parse_version("2.10.0") > parse_version("2.9.9")
    assert parse_version("nightly") is None


@pytest.mark.django_db
def test_firmware_work_is_settled_once_the_gateway_reaches_its_target(clock, site, target, planner):
    started, waiting = make_gateway(site, model="EG-100"), make_gateway(site, model="EG-100")
    Gateway.objects.filter(pk__in=[started.pk, waiting.pk]).update(firmware="2.9.3")
    check_upkeep(now=T0)
    started_work = firmware_work().get(gateway=started)
    move_to(started_work, Status.IN_PROGRESS, by=planner)

    Gateway.objects.filter(pk__in=[started.pk, waiting.pk]).update(firmware="2.10.0")
    result = check_upkeep(now=T0 + DAY)
    check_upkeep(now=T0 + 2 * DAY)

    cancelled = firmware_work().get(gateway=waiting)
    assert cancelled.status == Status.CANCELLED
    assert "firmware 2.10.0" in cancelled.history.last().reason
    started_work.refresh_from_db()
    assert started_work.status == Status.IN_PROGRESS  # begun: the technician closes it
    notes = started_work.events.filter(kind=EventKind.CONNECTIVITY)
    assert [e.message for e in notes] == [
        "The gateway now runs firmware 2.10.0 (target 2.10.0). The work had started: it stays open."
    ]
    assert {w.pk for w in result.settled} == {cancelled.pk, started_work.pk}  # once each
