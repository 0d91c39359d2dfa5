"""Checks running at the same time, each on its own database connection, record each
transition once and open one work order per silent gateway."""

import threading

import pytest
import time_machine
from django.db import connection

from fleet import work
from fleet.connectivity import check_connectivity
from gateways.models import ConnectivityEvent
from tests.fleet.checks.devices import OFFLINE_AT, SECOND, T0, make_gateway, make_sensor
from workorders.choices import DeviceIssue, Priority
from workorders.models import WorkOrder

THREADS = 6

pytestmark = pytest.mark.postgresql(reason="concurrent writers need PostgreSQL")


def run_concurrently(target, count=THREADS):
    """Call `target()` from `count` threads, each with its own connection, all at once;
    returns what each returned (or the exception it raised)."""
    barrier = threading.Barrier(count)
    answers = [None] * count

    def run(index):
        try:
            barrier.wait(timeout=10)
            answers[index] = target()
        except Exception as exc:  # reported by the test
            answers[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


@pytest.fixture
def silent_fleet(site, pump):
    with time_machine.travel(T0, tick=False):
        gateways = [make_gateway(site, f"GW-{n}") for n in range(5)]
        for gateway in gateways:
            make_sensor(gateway, asset=pump)
    return gateways


@pytest.mark.django_db(transaction=True)
def test_concurrent_checks_open_one_work_order_per_silent_gateway_and_record_events_once(
    silent_fleet,
):
    with time_machine.travel(OFFLINE_AT, tick=False):
        answers = run_concurrently(lambda: check_connectivity(now=OFFLINE_AT))

    assert not [a for a in answers if isinstance(a, Exception)], answers
    assert sum(len(a.gateways) for a in answers) == len(silent_fleet)
    assert sum(len(a.opened) for a in answers) == len(silent_fleet)
    silence = WorkOrder.objects.filter(device_issue=DeviceIssue.GATEWAY_SILENT)
    assert sorted(silence.values_list("gateway__name", flat=True)) == [g.name for g in silent_fleet]
    assert ConnectivityEvent.objects.filter(sensor=None, to_state="offline").count() == 5
    assert ConnectivityEvent.objects.exclude(sensor=None).filter(to_state="stale").count() == 5


@pytest.mark.django_db(transaction=True)
def test_concurrent_openings_of_the_same_work_answer_with_one_work_order(site):
    with time_machine.travel(OFFLINE_AT, tick=False):
        gateway = make_gateway(site)

        def open_it():
            work_order, created = work.fleet_work_open(
                device=work.Device(gateway.pk),
                issue=DeviceIssue.GATEWAY_SILENT,
                site=site,
                title="Gateway GW-N1 silent",
                description="",
                priority=Priority.MEDIUM,
                due_at=OFFLINE_AT,
                now=OFFLINE_AT,
                event="Opened by a test.",
                skill=work.FleetSkill(),
            )
            return work_order.pk, created

        answers = run_concurrently(open_it)

    assert not [a for a in answers if isinstance(a, Exception)], answers
    assert len({pk for pk, _ in answers}) == 1
    assert sorted(created for _, created in answers) == [False] * (THREADS - 1) + [True]
    assert WorkOrder.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_heartbeats_and_checks_at_once_record_a_recovery_once_and_settle_the_work_once(
    silent_fleet,
):
    from fleet.connectivity import gateway_heard
    from gateways.models import Gateway

    with time_machine.travel(OFFLINE_AT, tick=False):
        check_connectivity(now=OFFLINE_AT)
    back = OFFLINE_AT + 3600 * SECOND
    gateway = silent_fleet[0]
    Gateway.objects.filter(pk=gateway.pk).update(last_seen_at=back)
    calls = iter(range(THREADS))

    def heartbeat_or_check():
        if next(calls) % 2:
            gateway_heard(gateway=Gateway.objects.get(pk=gateway.pk), now=back)
        else:
            check_connectivity(now=back)

    with time_machine.travel(back, tick=False):
        answers = run_concurrently(heartbeat_or_check)

    assert not [a for a in answers if isinstance(a, Exception)], answers
    recoveries = ConnectivityEvent.objects.filter(gateway=gateway, sensor=None, to_state="online")
    assert recoveries.count() == 1
    work_order = WorkOrder.objects.get(gateway=gateway, device_issue=DeviceIssue.GATEWAY_SILENT)
    assert work_order.status == "cancelled"
    assert work_order.events.filter(kind="connectivity").count() == 1
    # Its sensor has still said nothing since T0: its own stale work, opened once.
    assert (
        WorkOrder.objects.filter(gateway=gateway, device_issue=DeviceIssue.SENSOR_STALE).count()
        == 1
    )


@pytest.mark.django_db(transaction=True)
def test_concurrent_checks_open_one_work_order_per_stale_sensor(silent_fleet):
    from gateways.models import Gateway

    stale_at = T0 + 7200 * SECOND
    Gateway.objects.update(last_seen_at=stale_at)  # the gateways report; their sensors do not

    with time_machine.travel(stale_at, tick=False):
        answers = run_concurrently(lambda: check_connectivity(now=stale_at))

    assert not [a for a in answers if isinstance(a, Exception)], answers
    assert sum(len(a.sensors) for a in answers) == len(silent_fleet)
    stale = WorkOrder.objects.filter(device_issue=DeviceIssue.SENSOR_STALE)
    assert stale.count() == len(silent_fleet)
    assert sum(len(a.opened) for a in answers) == len(silent_fleet)
