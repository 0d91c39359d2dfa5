"""An offline gateway opens one corrective work order: titled, prioritised, assigned and
described as the fleet check promises; its recovery is noted and unstarted work closed."""

from datetime import timedelta

import pytest

from assets.choices import Criticality
from fleet.connectivity import gateway_heard
from tests.factories import AssetFactory, TechnicianFactory, move_to
from tests.fleet.checks.devices import OFFLINE_AT, SECOND, T0, heard, make_gateway, make_sensor
from workorders.choices import DeviceIssue, EventKind, Priority, Source, Status, WorkOrderType
from workorders.models import WorkOrder


def silence_work():
    return WorkOrder.objects.filter(device_issue=DeviceIssue.GATEWAY_SILENT)


@pytest.mark.django_db
def test_an_offline_gateway_opens_one_corrective_work_order_at_its_site(
    clock, site, gateway, sensor, pump, iiot_technician
):
    result = clock.check(OFFLINE_AT)

    work_order = silence_work().get()
    assert result.opened == [work_order]
    assert work_order.title == "Gateway GW-N1 silent since 2026-03-10 10:00"  # Berlin time
    assert (work_order.site, work_order.gateway, work_order.sensor) == (site, gateway, None)
    assert work_order.source == Source.FLEET
    assert work_order.type == WorkOrderType.CORRECTIVE
    assert work_order.status == Status.SCHEDULED
    assert work_order.asset is None  # the gateway is not recorded as an asset
    assert "Assets not monitored meanwhile:\n- P-101 — Cooling water pump" in (
        work_order.description
    )
    assert work_order.events.filter(kind=EventKind.CREATED).exists()


@pytest.mark.django_db
def test_a_late_gateway_opens_no_work(clock, gateway):
    clock.check(OFFLINE_AT - SECOND)

    assert not silence_work().exists()


@pytest.mark.django_db
def test_repeated_checks_keep_exactly_one_open_work_order_per_silent_gateway(clock, gateway):
    for minute in range(30):
        clock.check(OFFLINE_AT + minute * 60 * SECOND)

    assert silence_work().count() == 1
    assert gateway.connectivity_events.filter(to_state="offline").count() == 1


@pytest.mark.django_db
def test_a_gateway_recorded_as_an_asset_is_named_by_its_tag_and_its_work_is_on_that_asset(
    clock, site
):
    asset = AssetFactory(site=site, tag="GW-101", name="Edge gateway hall 1")
    make_gateway(site, asset=asset)

    clock.check(OFFLINE_AT)

    work_order = silence_work().get()
    assert work_order.title == "Gateway GW-101 silent since 2026-03-10 10:00"
    assert work_order.asset == asset


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("criticalities", "priority", "due_in"),
    [
        (["A", "C"], Priority.HIGH, timedelta(hours=72)),
        (["B", "C"], Priority.MEDIUM, timedelta(days=7)),
        (["C"], Priority.LOW, timedelta(days=14)),
        ([], Priority.MEDIUM, timedelta(days=7)),
    ],
)
def test_the_priority_comes_from_the_most_critical_asset_its_sensors_watch(
    clock, site, gateway, criticalities, priority, due_in
):
    for n, criticality in enumerate(criticalities):
        asset = AssetFactory(site=site, criticality=criticality)
        make_sensor(gateway, f"s{n}", asset=asset)
    # An inactive sensor watches nothing: its critical asset does not count.
    make_sensor(
        gateway, "off", asset=AssetFactory(site=site, criticality=Criticality.A), is_active=False
    )

    clock.check(OFFLINE_AT)

    work_order = silence_work().get()
    assert work_order.priority == priority
    assert work_order.due_at == OFFLINE_AT + due_in


@pytest.mark.django_db
def test_the_work_goes_to_the_technician_with_the_fleet_skill(
    clock, site, gateway, technician, iiot_technician
):
    clock.check(OFFLINE_AT)

    work_order = silence_work().get()
    assert work_order.assignee == iiot_technician
    assert work_order.required_skill.code == "iiot"
    assert work_order.needs_attention == ""


@pytest.mark.django_db
def test_without_a_fleet_skilled_technician_any_technician_of_the_site_gets_it(
    clock, site, gateway, technician
):
    TechnicianFactory(username="elsewhere", skills=["iiot"])  # not at this site

    clock.check(OFFLINE_AT)

    assert silence_work().get().assignee == technician


@pytest.mark.django_db
def test_without_any_technician_the_work_is_unassigned_and_flagged(clock, gateway):
    clock.check(OFFLINE_AT)

    work_order = silence_work().get()
    assert work_order.assignee is None
    assert work_order.needs_attention == "No qualified technician available"


@pytest.mark.django_db
def test_the_list_of_unmonitored_assets_stops_at_fifty(clock, site, gateway):
    for n in range(53):
        make_sensor(gateway, f"s{n}", asset=AssetFactory(site=site, tag=f"M-{n:03d}"))

    clock.check(OFFLINE_AT)

    description = silence_work().get().description
    assert description.count("\n- M-") == 50
    assert description.endswith("\n- and 3 more")


# ---------------------------------------------------------------- recovery


@pytest.mark.django_db
def test_a_heartbeat_notes_the_recovery_and_cancels_unstarted_work(clock, gateway):
    clock.check(OFFLINE_AT)
    back = clock.at(T0 + 2 * 3600 * SECOND)
    heard(gateway, back)

    gateway_heard(gateway=gateway, now=back)

    work_order = silence_work().get()
    assert work_order.status == Status.CANCELLED
    change = work_order.history.get(to_status=Status.CANCELLED)
    assert change.reason == "Recovered: gateway heard again at 2026-03-10 12:00"
    note = work_order.events.get(kind=EventKind.CONNECTIVITY)
    assert note.message == (
        "Gateway heard again at 2026-03-10 12:00, silent for 2 h 0 min. "
        "The work had not started: cancelled as recovered."
    )


@pytest.mark.django_db
def test_the_check_notices_a_recovery_that_came_by_an_alert_or_a_reading(clock, gateway):
    clock.check(OFFLINE_AT)
    heard(gateway, T0 + 3000 * SECOND)

    clock.check(T0 + 3030 * SECOND)

    work_order = silence_work().get()
    assert work_order.status == Status.CANCELLED
    assert "heard again at 2026-03-10 10:50, silent for 50 min" in (
        work_order.events.get(kind=EventKind.CONNECTIVITY).message
    )


@pytest.mark.django_db
def test_started_work_stays_open_with_the_recovery_on_its_timeline(clock, gateway, planner):
    clock.check(OFFLINE_AT)
    move_to(silence_work().get(), Status.IN_PROGRESS, by=planner)
    heard(gateway, T0 + 3000 * SECOND)

    clock.check(T0 + 3030 * SECOND)

    work_order = silence_work().get()
    assert work_order.status == Status.IN_PROGRESS
    assert work_order.events.get(kind=EventKind.CONNECTIVITY).message.endswith(
        "The work had started: it stays open."
    )


@pytest.mark.django_db
def test_with_the_setting_off_unstarted_work_stays_open_with_the_note(clock, gateway, settings):
    settings.FLEET_CLOSE_RECOVERED_WORK = False
    clock.check(OFFLINE_AT)
    heard(gateway, T0 + 3000 * SECOND)

    clock.check(T0 + 3030 * SECOND)

    work_order = silence_work().get()
    assert work_order.status == Status.SCHEDULED
    assert work_order.events.filter(kind=EventKind.CONNECTIVITY).count() == 1


@pytest.mark.django_db
def test_silent_again_while_the_work_is_open_notes_it_on_the_same_work_order(
    clock, gateway, planner
):
    clock.check(OFFLINE_AT)
    move_to(silence_work().get(), Status.IN_PROGRESS, by=planner)
    heard(gateway, T0 + 3000 * SECOND)
    clock.check(T0 + 3030 * SECOND)

    clock.check(T0 + (3000 + 901) * SECOND)

    work_order = silence_work().get()
    assert work_order.events.filter(kind=EventKind.CONNECTIVITY).count() == 2
    assert work_order.events.filter(message__startswith="Gateway GW-N1 silent again").exists()


@pytest.mark.django_db
def test_after_a_recovery_a_new_silence_opens_new_work(clock, gateway):
    clock.check(OFFLINE_AT)
    heard(gateway, T0 + 3000 * SECOND)
    clock.check(T0 + 3030 * SECOND)

    clock.check(T0 + (3000 + 901) * SECOND)

    assert list(silence_work().values_list("status", flat=True).order_by("pk")) == [
        Status.CANCELLED,
        Status.SCHEDULED,
    ]
