"""The simulator's signed requests are accepted by the real webhooks (alerts, readings,
heartbeat), and a silenced simulator becomes a silent gateway with its work order."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from alerts.models import Alert
from assets.models import MeterReading
from fleet.connectivity import check_connectivity
from fleet.simulator import Plan, Sender, Simulator, parse_plan, sensors_of
from gateways.choices import Connectivity
from gateways.models import Gateway, Sensor
from tests.fleet.simulator.transports import ClientTransport
from workorders.choices import Source
from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db


def simulator(gateway, secret, sensors, plan_text, *, interval=60.0, log=None):
    """A simulator on this process's clock (the webhook checks the signature's timestamp
    against it), sending through the test client; it does not wait between ticks."""
    transport = ClientTransport(Client())
    lines = [] if log is None else log
    sender = Sender(
        transport=transport,
        gateway_id=str(gateway.pk),
        secret=secret,
        log=lines.append,
        clock=timezone.now,
        sleep=lambda seconds: None,
    )
    plan = Plan(phases=parse_plan(plan_text), sensors=sensors, interval=interval, seed=3)
    return Simulator(
        plan=plan, sender=sender, log=lines.append, clock=timezone.now, sleep=lambda s: None
    ), transport


def statuses(transport_lines):
    return [
        line.split()[1:3]
        for line in transport_lines
        if line.split()[1] in ("heartbeat", "readings", "alerts")
    ]


def test_a_steady_tick_is_accepted_heartbeat_and_readings(gateway_and_secret, sensors, watched):
    gateway, secret = gateway_and_secret
    lines = []
    sim, _transport = simulator(gateway, secret, sensors, "steady", log=lines)
    assert sim.run(count=1) == 2
    assert statuses(lines) == [["heartbeat", "202"], ["readings", "202"]]
    gateway.refresh_from_db()
    assert gateway.last_heartbeat_at is not None
    assert gateway.firmware == "2.4.1"
    assert gateway.connectivity == Connectivity.ONLINE
    assert set(Sensor.objects.filter(gateway=gateway).values_list("code", flat=True)) == {
        "vib-01",
        "temp-02",
    }
    reading = MeterReading.objects.get(meter=watched["meter"])
    assert float(reading.value) > 1200


def test_degrading_alerts_are_stored_and_a_major_one_opens_work(
    gateway_and_secret, sensors, watched, technician, django_capture_on_commit_callbacks
):
    gateway, secret = gateway_and_secret
    lines = []
    sim, _ = simulator(gateway, secret, sensors, "degrading:6", log=lines)
    with django_capture_on_commit_callbacks(execute=True):  # alerts are processed on commit
        sim.run()
    assert ["alerts", "202"] in statuses(lines)
    alerts = Alert.objects.filter(gateway=gateway).order_by("id")
    assert [a.severity for a in alerts] == ["warning", "major", "critical"]
    assert {a.asset_id for a in alerts} == {watched["pump"].pk}
    work = WorkOrder.objects.get(asset=watched["pump"], condition="vibration.high")
    assert work.source == Source.ALERT


def test_a_storm_is_deduplicated_by_alert_id(gateway_and_secret, watched):
    from fleet.simulator import SensorSpec

    gateway, secret = gateway_and_secret
    lines = []
    sensors = [SensorSpec("vib-01", "P-101"), SensorSpec("vib-02", "P-102")]
    sim, _ = simulator(gateway, secret, sensors, "storm:2", log=lines)
    sim.run()
    alert_lines = [line for line in lines if " alerts 202 " in line]
    assert len(alert_lines) == 2
    assert "accepted 2, duplicates 2" in alert_lines[0]
    assert "duplicates 4" in alert_lines[1]
    assert Alert.objects.filter(gateway=gateway).count() == 2


def test_a_silenced_simulator_leaves_its_gateway_late_then_offline_with_a_work_order(
    gateway_and_secret, sensors, watched, technician
):
    gateway, secret = gateway_and_secret
    Gateway.objects.filter(pk=gateway.pk).update(
        heartbeat_interval_seconds=60, heartbeat_grace_seconds=60
    )
    transport_lines = []
    sim, transport = simulator(gateway, secret, sensors, "steady:1,silent:5", log=transport_lines)
    sim.run()
    assert len(transport.requests) == 2  # the steady tick only
    heard = Gateway.objects.get(pk=gateway.pk).last_heartbeat_at
    check_connectivity(now=heard + timedelta(seconds=90))
    assert Gateway.objects.get(pk=gateway.pk).connectivity == Connectivity.LATE
    check_connectivity(now=heard + timedelta(seconds=150))
    assert Gateway.objects.get(pk=gateway.pk).connectivity == Connectivity.OFFLINE
    assert (
        WorkOrder.objects.filter(
            gateway=gateway, status__in=["requested", "approved", "scheduled"]
        ).count()
        == 1
    )


def test_the_gateways_registered_sensors_are_what_it_simulates(gateway_and_secret, watched):
    gateway, _secret = gateway_and_secret
    Sensor.objects.create(
        gateway=gateway, code="vib-09", measures="vibration", asset=watched["pump"]
    )
    Sensor.objects.create(gateway=gateway, code="off-1", asset=watched["pump"], is_active=False)
    Sensor.objects.create(gateway=gateway, code="loose")  # watches nothing
    MeterReading.objects.create(
        meter=watched["meter"], value=4321, observed_at=timezone.now() - timedelta(hours=1)
    )
    (spec,) = sensors_of(gateway)
    assert (spec.code, spec.asset_tag, spec.meter, spec.meter_start) == (
        "vib-09",
        "P-101",
        "hours",
        4321.0,
    )
