"""The Sparkplug B host under what real nodes and brokers do: nodes that report by exception
and say nothing for hours, a broker restored from its autosave replaying acknowledged messages,
payloads that cannot be stored, the sequence gaps' retention, and planners editing a rule the
host is updating."""

import math
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from pysparkplug import DataType, DData, Metric

from alerts.models import Alert
from assets.models import MeterReading
from fleet.connectivity import check_connectivity, sensor_state_at, sensor_states
from gateways.channels import MAX_BODY_BYTES
from gateways.choices import Connectivity, SensorState
from gateways.health import connectivity_at, gateway_connectivity
from gateways.messages import MessageRejected
from gateways.models import Gateway, Sensor
from sparkplug import services
from sparkplug.choices import Direction, MetricTarget
from sparkplug.host import MAX_METRICS, handle_message
from sparkplug.models import EdgeNodeSession, MetricMapping, SequenceGap
from sparkplug.services import metric_mapping_save, sequence_gaps_prune
from tests.factories import GatewayFactory, MeterFactory
from tests.mqtt.sparkplug_node import SparkplugNode, ms
from workorders.choices import DeviceIssue
from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db
SECOND = timedelta(seconds=1)
HOURS = timedelta(hours=6)


@pytest.fixture
def gateway(site):
    gateway = GatewayFactory(site=site, name="Line 2 gateway")
    Gateway.objects.filter(pk=gateway.pk).update(
        sparkplug_group_id="plant", sparkplug_edge_node_id="line2"
    )
    gateway.refresh_from_db()
    return gateway


@pytest.fixture
def sensor(gateway, pump):
    return Sensor.objects.create(
        gateway=gateway, code="temp1", measures="temperature", unit="C", asset=pump
    )


@pytest.fixture
def node():
    return SparkplugNode("plant", "line2", aliases={"Temperature": 2})


@pytest.fixture
def t0():
    return timezone.now().replace(microsecond=0) - timedelta(minutes=10)


def send(message, now):
    topic, payload = message
    with transaction.atomic():
        handle_message(topic=topic, payload=payload, now=now)


def rejected(message, now) -> MessageRejected:
    with pytest.raises(MessageRejected) as caught:
        send(message, now)
    return caught.value


def rule(gateway, sensor, **fields):
    values = {
        "metric": "Temperature",
        "target": MetricTarget.THRESHOLD,
        "condition": "temp_high",
        "severity": "major",
        "direction": Direction.ABOVE,
        "threshold": 80.0,
        "clear_threshold": 70.0,
    }
    return metric_mapping_save(gateway=gateway, sensor=sensor, **(values | fields))


def status(gateway, now):
    """The gateway's connectivity by both definitions (Python and SQL), which must agree."""
    gateway.refresh_from_db()
    by_sql = Gateway.objects.with_connectivity(now).get(pk=gateway.pk).status
    assert gateway_connectivity(gateway, now) == by_sql
    return by_sql


# --- 1. births and deaths drive the health of report-by-exception nodes ---------------------


def test_a_born_node_silent_for_hours_stays_online_until_its_death(gateway, node, t0):
    send(node.nbirth(t0, bd_seq=1), t0)
    check_connectivity(now=t0 + HOURS)
    gateway.refresh_from_db()
    assert gateway.connectivity == Connectivity.ONLINE
    assert status(gateway, t0 + HOURS) == Connectivity.ONLINE
    assert not WorkOrder.objects.filter(device_issue=DeviceIssue.GATEWAY_SILENT).exists()

    send(node.ndeath(t0 + HOURS), t0 + HOURS)
    assert status(gateway, t0 + HOURS + SECOND) == Connectivity.OFFLINE
    assert WorkOrder.objects.filter(device_issue=DeviceIssue.GATEWAY_SILENT).count() == 1
    assert not Gateway.objects.get(pk=gateway.pk).session_open


def test_a_born_device_silent_for_hours_stays_live_until_its_death(gateway, sensor, node, t0):
    send(node.nbirth(t0), t0)
    send(node.dbirth("temp1", t0, {"Temperature": 20.0}), t0)
    check_connectivity(now=t0 + HOURS)
    sensor.refresh_from_db()
    assert sensor.state == SensorState.LIVE
    assert not WorkOrder.objects.filter(device_issue=DeviceIssue.SENSOR_STALE).exists()
    computed = sensor_states(Sensor.objects.filter(pk=sensor.pk), t0 + HOURS).get()
    assert (computed.computed, computed.gateway_offline) == (SensorState.LIVE, False)

    send(node.ddeath("temp1", t0 + HOURS), t0 + HOURS)
    check_connectivity(now=t0 + HOURS + SECOND)
    sensor.refresh_from_db()
    assert sensor.state == SensorState.STALE
    assert WorkOrder.objects.filter(sensor=sensor, device_issue=DeviceIssue.SENSOR_STALE).exists()


def test_a_rebirth_ends_its_devices_sessions_until_they_are_born_again(gateway, sensor, node, t0):
    send(node.nbirth(t0, bd_seq=1), t0)
    send(node.dbirth("temp1", t0, {"Temperature": 20.0}), t0)
    send(node.nbirth(t0 + SECOND, bd_seq=2), t0 + SECOND)  # no DBIRTH follows
    check_connectivity(now=t0 + HOURS)
    sensor.refresh_from_db()
    assert sensor.state == SensorState.STALE
    assert status(gateway, t0 + HOURS) == Connectivity.ONLINE


def test_a_gateway_without_a_session_still_goes_offline_after_interval_and_grace(gateway, t0):
    Gateway.objects.filter(pk=gateway.pk).update(last_seen_at=t0)
    gateway.refresh_from_db()
    silent = timedelta(
        seconds=gateway.heartbeat_interval_seconds + gateway.heartbeat_grace_seconds + 1
    )
    assert status(gateway, t0 + silent) == Connectivity.OFFLINE
    check_connectivity(now=t0 + silent)
    assert WorkOrder.objects.filter(device_issue=DeviceIssue.GATEWAY_SILENT).count() == 1


def test_an_open_session_is_online_and_live_in_the_pure_definitions(t0):
    later = t0 + HOURS
    assert (
        connectivity_at(
            last_seen_at=t0, interval_seconds=60, grace_seconds=60, now=later, session_open=True
        )
        == Connectivity.ONLINE
    )
    assert connectivity_at(last_seen_at=t0, interval_seconds=60, grace_seconds=60, now=later) == (
        Connectivity.OFFLINE
    )
    live = sensor_state_at(
        last_sample_at=t0,
        stale_after_seconds=60,
        gateway_offline=False,
        now=later,
        session_open=True,
    )
    assert live == SensorState.LIVE


# --- 2. replays of acknowledged messages ------------------------------------------------------


def test_a_replayed_crossing_after_its_clearing_leaves_the_rule_cleared(gateway, sensor, node, t0):
    threshold = rule(gateway, sensor)
    meter = MeterFactory(asset=sensor.asset, code="hours")
    MetricMapping.objects.create(
        gateway=gateway, sensor=sensor, metric="Hours", target=MetricTarget.METER, meter=meter
    )
    send(node.nbirth(t0), t0)
    send(node.dbirth("temp1", t0, {"Temperature": 60.0, "Hours": 10.0}), t0)
    a = node.ddata("temp1", t0 + SECOND, {"Temperature": 90.0, "Hours": 11.0})  # raises
    b = node.ddata("temp1", t0 + 2 * SECOND, {"Temperature": 65.0, "Hours": 12.0})  # clears
    for message, at in ((a, 1), (b, 2), (a, 3)):  # a broker restored from its autosave
        send(message, t0 + at * SECOND)

    threshold.refresh_from_db()
    assert not threshold.raised
    assert threshold.last_value == 65.0
    states = sorted(Alert.objects.filter(gateway=gateway).values_list("state", flat=True))
    assert states == ["active", "cleared"]
    session = EdgeNodeSession.objects.get(gateway=gateway)
    assert session.seq == 3  # B's: the replay did not move it back
    assert not SequenceGap.objects.exists()
    values = sorted(MeterReading.objects.filter(meter=meter).values_list("value", flat=True))
    assert values == [10, 11, 12]  # each reading once


def test_a_rule_does_not_judge_a_sample_older_than_the_last_it_judged(gateway, sensor, node, t0):
    threshold = rule(gateway, sensor)
    send(node.nbirth(t0), t0)
    send(node.dbirth("temp1", t0 + 5 * SECOND, {"Temperature": 60.0}), t0)
    # The next sequence number, but a sample older than the one judged: not judged.
    old = DData(
        timestamp=ms(t0 + 6 * SECOND),
        seq=node._next(),
        metrics=(Metric(ms(t0 + SECOND), "Temperature", DataType.DOUBLE, value=95.0),),
    )
    send((node.topic("DDATA", "temp1"), old.encode(include_dtypes=True)), t0)
    threshold.refresh_from_db()
    assert not threshold.raised
    assert not Alert.objects.exists()


def test_a_replayed_birth_after_the_death_does_not_revive_the_node(gateway, sensor, node, t0):
    birth = node.nbirth(t0, bd_seq=4)
    send(birth, t0)
    send(node.ndeath(t0 + SECOND), t0 + SECOND)
    send(birth, t0 + 2 * SECOND)
    assert not EdgeNodeSession.objects.get(gateway=gateway).online
    assert status(gateway, t0 + 3 * SECOND) == Connectivity.OFFLINE


def test_a_replayed_earlier_birth_does_not_replace_the_current_session(gateway, node, t0):
    first = node.nbirth(t0, bd_seq=4)
    send(first, t0)
    send(node.nbirth(t0 + 10 * SECOND, bd_seq=5), t0 + 10 * SECOND)
    send(node.ndata(t0 + 11 * SECOND, {"Temperature": 1.0}), t0 + 11 * SECOND)
    send(first, t0 + 12 * SECOND)
    session = EdgeNodeSession.objects.get(gateway=gateway)
    assert (session.online, session.bd_seq, session.seq) == (True, 5, 1)


# --- 3. bounds ----------------------------------------------------------------------------


def test_a_payload_over_the_body_limit_is_rejected_before_decoding(gateway, node, t0):
    refusal = rejected((node.topic("NBIRTH"), b"\xff" * (MAX_BODY_BYTES + 1)), t0)
    assert f"at most {MAX_BODY_BYTES}" in refusal.reason
    assert refusal.gateway == gateway


def test_a_birth_with_too_many_metrics_is_rejected(gateway, node, t0):
    metrics = {f"m{n}": float(n) for n in range(MAX_METRICS + 1)}
    refusal = rejected(node.nbirth(t0, metrics), t0)
    assert f"at most {MAX_METRICS}" in refusal.reason
    assert refusal.gateway == gateway
    assert not EdgeNodeSession.objects.filter(gateway=gateway, online=True).exists()


@pytest.mark.parametrize(
    "at",
    [timedelta(minutes=6), datetime(1999, 12, 31, tzinfo=UTC)],
    ids=["ahead", "before-2000"],
)
def test_timestamps_outside_the_heartbeats_bounds_are_rejected(gateway, node, t0, at):
    send(node.nbirth(t0), t0)
    when = t0 + at if isinstance(at, timedelta) else at
    refusal = rejected(node.ndata(when, {"Temperature": 1.0}), t0)
    assert "clock" in refusal.reason
    assert refusal.gateway == gateway


def test_a_death_with_a_wrong_clock_still_ends_the_session(gateway, node, t0):
    send(node.nbirth(t0), t0)
    send(node.ndeath(t0 + HOURS), t0 + SECOND)  # its will, stamped by a clock hours ahead
    assert status(gateway, t0 + 2 * SECOND) == Connectivity.OFFLINE


def test_a_metric_name_with_nul_is_rejected(gateway, node, t0):
    refusal = rejected(node.nbirth(t0, {"Bad\x00name": 1.0}), t0)
    assert "NUL" in refusal.reason
    assert refusal.gateway == gateway


def test_values_that_are_no_measurement_are_skipped_not_stored(gateway, sensor, node, t0):
    threshold = rule(gateway, sensor)
    send(node.nbirth(t0), t0)
    send(node.dbirth("temp1", t0, {"Temperature": 60.0}), t0)
    for n, value in enumerate([math.nan, math.inf, -math.inf], 1):
        send(node.ddata("temp1", t0 + n * SECOND, {"Temperature": value}), t0 + n * SECOND)
    threshold.refresh_from_db()
    assert (threshold.raised, threshold.last_value) == (False, 60.0)


def test_a_sample_from_a_clock_ahead_is_recorded_at_the_receipt(gateway, sensor, node, t0):
    send(node.nbirth(t0), t0)
    send(node.dbirth("temp1", t0 + 4 * 60 * SECOND, {"Temperature": 60.0}), t0)
    sensor.refresh_from_db()
    assert sensor.last_sample_at == t0


# --- 4. sequence gaps are kept 30 days --------------------------------------------------------


def test_sequence_gaps_older_than_30_days_are_pruned(gateway, t0):
    for days in (31, 29):
        SequenceGap.objects.create(
            gateway=gateway, expected=1, got=3, topic="t", at=t0 - timedelta(days=days)
        )
    assert sequence_gaps_prune(now=t0) == 1
    assert list(SequenceGap.objects.values_list("at", flat=True)) == [t0 - timedelta(days=29)]


def test_recording_gaps_prunes_the_expired_ones_now_and_then(gateway, node, t0, monkeypatch):
    monkeypatch.setattr(services, "PRUNE_EVERY", 1)
    SequenceGap.objects.create(
        gateway=gateway, expected=1, got=3, topic="t", at=t0 - timedelta(days=40)
    )
    send(node.nbirth(t0), t0)
    node.seq = 5
    send(node.ndata(t0 + SECOND, {"Temperature": 1.0}), t0 + SECOND)
    assert list(SequenceGap.objects.values_list("got", flat=True)) == [6]


# --- 5. planners' edits and the host's state ---------------------------------------------------


def test_editing_a_rule_keeps_the_state_the_host_wrote_meanwhile(gateway, sensor, node, t0):
    threshold = rule(gateway, sensor)
    planners_copy = MetricMapping.objects.get(pk=threshold.pk)  # the admin's form loads it
    send(node.nbirth(t0), t0)
    send(node.dbirth("temp1", t0, {"Temperature": 60.0}), t0)
    send(node.ddata("temp1", t0 + SECOND, {"Temperature": 90.0}), t0 + SECOND)

    saved = metric_mapping_save(mapping=planners_copy, severity="critical")
    saved.refresh_from_db()
    assert (saved.severity, saved.raised, saved.last_value) == ("critical", True, 90.0)
    assert saved.last_sample_ms == ms(t0 + SECOND)

    saved = metric_mapping_save(mapping=planners_copy, threshold=85.0)  # re-armed
    saved.refresh_from_db()
    assert (saved.threshold, saved.raised, saved.severity) == (85.0, False, "critical")


def test_moving_a_rule_to_another_sensor_saves_it_and_rearms_it(gateway, sensor, node, t0):
    threshold = rule(gateway, sensor)
    MetricMapping.objects.filter(pk=threshold.pk).update(raised=True, last_value=90.0)
    other = Sensor.objects.create(gateway=gateway, code="temp2", asset=sensor.asset)
    saved = metric_mapping_save(mapping=threshold, sensor=other)
    saved.refresh_from_db()
    assert (saved.sensor_id, saved.raised, saved.last_value) == (other.pk, False, 90.0)


def test_a_disabled_gateways_death_ends_its_session_so_it_is_not_online_when_enabled(
    gateway, sensor, node, t0
):
    send(node.nbirth(t0), t0)
    send(node.dbirth("temp1", t0, {"Temperature": 20.0}), t0)
    Gateway.objects.filter(pk=gateway.pk).update(is_active=False)
    assert "disabled" in rejected(node.ndata(t0 + SECOND, {"Temperature": 1.0}), t0).reason
    send(node.ndeath(t0 + SECOND), t0 + SECOND)
    assert not WorkOrder.objects.exists()  # the check does not watch a disabled gateway
    Gateway.objects.filter(pk=gateway.pk).update(is_active=True)
    assert status(gateway, t0 + HOURS) == Connectivity.OFFLINE
    sensor.refresh_from_db()
    assert not sensor.session_open


def test_a_session_no_longer_counts_once_the_sparkplug_identity_is_removed(gateway, node, t0):
    send(node.nbirth(t0), t0)
    Gateway.objects.filter(pk=gateway.pk).update(sparkplug_group_id="", sparkplug_edge_node_id="")
    assert status(gateway, t0 + HOURS) == Connectivity.OFFLINE


def test_data_replayed_after_the_deaths_feeds_readings_and_revives_nothing(
    gateway, sensor, pump, node, t0
):
    meter = MeterFactory(asset=pump, code="hours")
    MetricMapping.objects.create(
        gateway=gateway, sensor=sensor, metric="Hours", target=MetricTarget.METER, meter=meter
    )
    send(node.nbirth(t0), t0)
    send(node.dbirth("temp1", t0, {"Hours": 10.0}), t0)
    data = node.ddata("temp1", t0 + SECOND, {"Hours": 11.0})
    node_data = node.ndata(t0 + SECOND, {"Temperature": 1.0})
    send(data, t0 + SECOND)
    send(node_data, t0 + SECOND)
    send(node.ddeath("temp1", t0 + 2 * SECOND), t0 + 2 * SECOND)
    send(data, t0 + 3 * SECOND)  # replayed after the device's death: no rebirth asked
    sensor.refresh_from_db()
    assert sensor.state == SensorState.STALE
    send(node.ndeath(t0 + 4 * SECOND), t0 + 4 * SECOND)
    send(node_data, t0 + 5 * SECOND)  # and after the node's
    send(data, t0 + 5 * SECOND)
    assert status(gateway, t0 + 6 * SECOND) == Connectivity.OFFLINE
    assert sorted(MeterReading.objects.filter(meter=meter).values_list("value", flat=True)) == [
        10,
        11,
    ]
    # New data of the ended session is still refused, with the rebirth request.
    late = node.ddata("temp1", t0 + 7 * SECOND, {"Hours": 12.0})
    assert rejected(late, t0 + 7 * SECOND).rebirth
