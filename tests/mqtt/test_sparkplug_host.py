"""The Sparkplug B host (sparkplug.host.handle_message) on payloads built by pysparkplug: births
and deaths drive the fleet's health, bdSeq and sequence numbers are checked, mapped metrics
become meter readings and threshold alerts, and what can never be applied is rejected with a
reason."""

import json
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from pysparkplug import NCmd

from alerts.models import Alert
from assets.models import MeterReading
from fleet.connectivity import check_connectivity
from gateways.choices import Connectivity, SensorState
from gateways.messages import MessageRejected
from gateways.models import ConnectivityEvent, Gateway, Sensor
from sparkplug.choices import Direction, MetricTarget
from sparkplug.host import handle_message, rebirth_message, state_message
from sparkplug.models import EdgeNodeSession, MetricMapping, SequenceGap
from tests.factories import GatewayFactory, MeterFactory
from tests.mqtt.sparkplug_node import SparkplugNode
from workorders.choices import DeviceIssue, Status
from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db
SECOND = timedelta(seconds=1)


@pytest.fixture
def gateway(site):
    gateway = GatewayFactory(site=site, name="Line 1 gateway")
    Gateway.objects.filter(pk=gateway.pk).update(
        sparkplug_group_id="plant", sparkplug_edge_node_id="line1"
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
    return SparkplugNode("plant", "line1", aliases={"Motor/Hours": 1, "Temperature": 2})


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


def threshold_rule(gateway, sensor, **fields):
    values = {
        "metric": "Temperature",
        "target": MetricTarget.THRESHOLD,
        "condition": "temp_high",
        "severity": "major",
        "direction": Direction.ABOVE,
        "threshold": 80.0,
        "clear_threshold": 70.0,
    }
    rule = MetricMapping(gateway=gateway, sensor=sensor, **(values | fields))
    rule.full_clean()
    rule.save()
    return rule


def test_the_state_message_is_the_sparkplug_3_json_on_the_hosts_topic(settings):
    settings.SPARKPLUG_HOST_ID = "cmms-test"
    topic, payload = state_message(online=True, timestamp_ms=1_700_000_000_123)
    assert topic == "spBv1.0/STATE/cmms-test"
    assert json.loads(payload) == {"online": True, "timestamp": 1_700_000_000_123}


# --- births and deaths ---------------------------------------------------------------------


def test_a_birth_puts_the_gateway_online_and_remembers_its_bdseq(gateway, node, t0):
    send(node.nbirth(t0, {"Motor/Hours": 1.0}, bd_seq=7), t0)
    gateway.refresh_from_db()
    assert gateway.connectivity == Connectivity.ONLINE
    assert gateway.last_seen_at == t0
    session = EdgeNodeSession.objects.get(gateway=gateway)
    assert (session.online, session.bd_seq, session.seq, session.born_at) == (True, 7, 0, t0)
    assert session.aliases == {"1": "Motor/Hours"}
    event = ConnectivityEvent.objects.get(gateway=gateway)
    assert (event.from_state, event.to_state) == (Connectivity.NEVER_SEEN, Connectivity.ONLINE)


def test_a_death_puts_it_offline_at_once_with_silence_work_and_a_rebirth_recovers_it(
    gateway, sensor, node, t0
):
    send(node.nbirth(t0, bd_seq=3), t0)
    send(node.ndeath(t0 + SECOND), t0 + SECOND)
    gateway.refresh_from_db()
    assert gateway.connectivity == Connectivity.OFFLINE
    work = WorkOrder.objects.get(device_issue=DeviceIssue.GATEWAY_SILENT)
    assert "NDEATH" in work.description
    # The check does not take the recent birth for a sign of life after the death.
    check_connectivity(now=t0 + 2 * SECOND)
    gateway.refresh_from_db()
    assert gateway.connectivity == Connectivity.OFFLINE

    send(node.nbirth(t0 + 60 * SECOND, bd_seq=4), t0 + 60 * SECOND)
    gateway.refresh_from_db()
    work.refresh_from_db()
    assert gateway.connectivity == Connectivity.ONLINE
    assert work.status == Status.CANCELLED
    states = list(
        ConnectivityEvent.objects.filter(gateway=gateway, sensor=None)
        .order_by("at", "id")
        .values_list("to_state", flat=True)
    )
    assert states == [Connectivity.ONLINE, Connectivity.OFFLINE, Connectivity.ONLINE]


def test_the_will_of_an_earlier_session_does_not_put_a_reborn_node_offline(gateway, node, t0):
    send(node.nbirth(t0, bd_seq=5), t0)
    send(node.nbirth(t0 + SECOND, bd_seq=6), t0 + SECOND)  # reconnected before its will came
    send(node.ndeath(t0 + 2 * SECOND, bd_seq=5), t0 + 2 * SECOND)
    gateway.refresh_from_db()
    assert gateway.connectivity == Connectivity.ONLINE
    assert EdgeNodeSession.objects.get(gateway=gateway).online
    assert not WorkOrder.objects.filter(device_issue=DeviceIssue.GATEWAY_SILENT).exists()


def test_device_births_and_deaths_make_its_sensor_live_and_stale(gateway, sensor, node, t0):
    send(node.nbirth(t0), t0)
    send(node.dbirth("temp1", t0, {"Temperature": 20.0}), t0)
    sensor.refresh_from_db()
    assert sensor.state == SensorState.LIVE
    send(node.ddeath("temp1", t0 + SECOND), t0 + SECOND)
    sensor.refresh_from_db()
    assert sensor.state == SensorState.STALE
    check_connectivity(now=t0 + 2 * SECOND)  # the check keeps it stale, and opens its work
    sensor.refresh_from_db()
    assert sensor.state == SensorState.STALE
    assert WorkOrder.objects.filter(sensor=sensor, device_issue=DeviceIssue.SENSOR_STALE).exists()

    send(node.dbirth("temp1", t0 + 3 * SECOND, {"Temperature": 21.0}), t0 + 3 * SECOND)
    sensor.refresh_from_db()
    assert sensor.state == SensorState.LIVE


def test_a_node_death_takes_its_devices_with_it(gateway, sensor, node, t0):
    send(node.nbirth(t0), t0)
    send(node.dbirth("temp1", t0, {"Temperature": 20.0}), t0)
    send(node.ndeath(t0 + SECOND), t0 + SECOND)
    sensor.refresh_from_db()
    assert sensor.state == SensorState.STALE
    send(node.nbirth(t0 + 2 * SECOND), t0 + 2 * SECOND)  # reborn, its device not yet
    late = node.ddata("temp1", t0 + 3 * SECOND, {"Temperature": 1.0})
    assert "DDATA of device 'temp1' before its DBIRTH" in rejected(late, t0).reason


# --- sequence numbers ----------------------------------------------------------------------


def test_a_sequence_gap_is_recorded_and_the_message_still_applied(gateway, sensor, node, t0):
    send(node.nbirth(t0), t0)
    send(node.ndata(t0 + SECOND, {"Motor/Hours": 1.0}), t0 + SECOND)  # seq 1
    node.seq = 4  # seq 2..4 lost on the way
    send(node.ndata(t0 + 2 * SECOND, {"Motor/Hours": 2.0}), t0 + 2 * SECOND)  # seq 5
    gap = SequenceGap.objects.get(gateway=gateway)
    assert (gap.expected, gap.got, gap.missed) == (2, 5, 3)
    assert gap.topic == "spBv1.0/plant/NDATA/line1"
    assert EdgeNodeSession.objects.get(gateway=gateway).seq == 5


def test_sequence_numbers_wrap_after_255_without_a_gap(gateway, node, t0):
    send(node.nbirth(t0), t0)
    for n in range(1, 260):
        send(node.ndata(t0 + n * SECOND, {"Motor/Hours": float(n)}), t0 + n * SECOND)
    assert not SequenceGap.objects.exists()
    assert EdgeNodeSession.objects.get(gateway=gateway).seq == 259 % 256


# --- rejections ----------------------------------------------------------------------------


def test_data_before_a_birth_is_rejected_as_needing_a_rebirth(gateway, node, t0):
    refusal = rejected(node.ndata(t0, {"Motor/Hours": 1.0}), t0)
    assert "before the edge node's NBIRTH" in refusal.reason
    assert refusal.gateway == gateway
    topic, payload = refusal.rebirth  # what the consumer publishes: NCMD Node Control/Rebirth
    assert topic == "spBv1.0/plant/NCMD/line1"
    (metric,) = NCmd.decode(payload).metrics
    assert (metric.name, metric.value) == ("Node Control/Rebirth", True)


def test_unknown_node_device_and_bad_messages_are_rejected_with_reasons(gateway, sensor, node, t0):
    stranger = SparkplugNode("plant", "nobody")
    assert "No gateway has the Sparkplug identity" in rejected(stranger.nbirth(t0), t0).reason
    send(node.nbirth(t0), t0)
    refusal = rejected(node.dbirth("nosuch", t0, {"Temperature": 1.0}), t0)
    assert "no sensor with the code 'nosuch'" in refusal.reason
    assert refusal.gateway == gateway
    assert "Undecodable" in rejected((node.topic("NDATA"), b"\xff\x00garbage"), t0).reason
    assert "Not a Sparkplug B" in rejected(("spBv1.0/plant/NDATA", b""), t0).reason
    assert "Not a Sparkplug B" in rejected(("spBv1.0/plant/NFOO/line1", b""), t0).reason
    assert "alias 9" in rejected(_alias_only(node, t0), t0).reason


def _alias_only(node, t0):
    node.aliases["Unknown"] = 9
    return node.ndata(t0, {"Unknown": 1.0}, by_alias=True)


def test_commands_to_edge_nodes_are_not_the_hosts_to_apply(gateway, node, t0):
    send(node.nbirth(t0), t0)
    send(rebirth_message(group_id="plant", edge_node_id="line1"), t0 + SECOND)
    send(("spBv1.0/plant/DCMD/line1/temp1", b"anything"), t0 + SECOND)
    assert EdgeNodeSession.objects.get(gateway=gateway).seq == 0


def test_a_disabled_gateway_is_rejected(gateway, node, t0):
    Gateway.objects.filter(pk=gateway.pk).update(is_active=False)
    assert "disabled" in rejected(node.nbirth(t0), t0).reason


# --- meters --------------------------------------------------------------------------------


def test_a_mapped_node_metric_becomes_meter_readings_once_even_when_redelivered(
    gateway, pump, node, t0
):
    meter = MeterFactory(asset=pump, code="hours")
    MetricMapping.objects.create(
        gateway=gateway, metric="Motor/Hours", target=MetricTarget.METER, meter=meter
    )
    send(node.nbirth(t0, {"Motor/Hours": 100.0}), t0)
    data = node.ndata(t0 + SECOND, {"Motor/Hours": 101.5}, by_alias=True)
    send(data, t0 + SECOND)
    send(data, t0 + 2 * SECOND)  # redelivered (QoS 1)
    values = list(MeterReading.objects.filter(meter=meter).values_list("value", flat=True))
    assert sorted(values) == [100, 101.5]


# --- threshold rules -----------------------------------------------------------------------


def test_a_value_hovering_at_the_threshold_raises_one_alert_until_it_clears(
    gateway, sensor, node, t0
):
    threshold_rule(gateway, sensor)
    send(node.nbirth(t0), t0)
    send(node.dbirth("temp1", t0, {"Temperature": 60.0}), t0)
    values = [79.0, 80.5, 79.5, 81.0, 80.0, 75.0, 82.0]
    for n, value in enumerate(values, 1):
        send(node.ddata("temp1", t0 + n * SECOND, {"Temperature": value}, by_alias=True), t0)
    active = Alert.objects.filter(gateway=gateway, state="active")
    assert active.count() == 1
    alert = active.get()
    assert (alert.condition, alert.asset_tag, alert.value, alert.threshold) == (
        "temp_high",
        sensor.asset.tag,
        80.5,
        80.0,
    )
    assert MetricMapping.objects.get().raised

    send(node.ddata("temp1", t0 + 20 * SECOND, {"Temperature": 69.0}), t0)  # back past 70
    assert Alert.objects.filter(gateway=gateway, state="cleared").count() == 1
    assert not MetricMapping.objects.get().raised
    send(node.ddata("temp1", t0 + 21 * SECOND, {"Temperature": 85.0}), t0)
    assert Alert.objects.filter(gateway=gateway, state="active").count() == 2


def test_a_redelivered_crossing_raises_no_second_alert(gateway, sensor, node, t0):
    rule = threshold_rule(gateway, sensor)
    send(node.nbirth(t0), t0)
    send(node.dbirth("temp1", t0, {"Temperature": 60.0}), t0)
    crossing = node.ddata("temp1", t0 + SECOND, {"Temperature": 90.0})
    send(crossing, t0 + SECOND)
    send(crossing, t0 + 2 * SECOND)
    # Even replayed after the rule was reset, the alert id is the same: stored once.
    MetricMapping.objects.filter(pk=rule.pk).update(raised=False)
    EdgeNodeSession.objects.filter(gateway=gateway).update(seq=1, last_timestamp=None)
    send(crossing, t0 + 3 * SECOND)
    assert Alert.objects.filter(gateway=gateway).count() == 1


def test_a_below_rule_raises_when_the_value_falls_to_the_threshold(gateway, sensor, node, t0):
    threshold_rule(gateway, sensor, direction=Direction.BELOW, threshold=10.0, clear_threshold=15.0)
    send(node.nbirth(t0), t0)
    send(node.dbirth("temp1", t0, {"Temperature": 20.0}), t0)
    for n, value in enumerate([10.0, 12.0, 9.0, 16.0, 8.0], 1):
        send(node.ddata("temp1", t0 + n * SECOND, {"Temperature": value}), t0)
    assert Alert.objects.filter(gateway=gateway, state="active").count() == 2


# --- configuration -------------------------------------------------------------------------


def test_a_threshold_rule_needs_its_clear_threshold_on_the_normal_side(gateway, sensor):
    with pytest.raises(ValidationError) as caught:
        threshold_rule(gateway, sensor, clear_threshold=85.0)
    assert "must be below it" in caught.value.message_dict["clear_threshold"][0]
    with pytest.raises(ValidationError) as caught:
        threshold_rule(gateway, sensor, direction=Direction.BELOW, clear_threshold=70.0)
    assert "must be above it" in caught.value.message_dict["clear_threshold"][0]


def test_a_threshold_rule_alerts_on_the_sensors_asset_by_default(gateway, sensor, pump):
    assert threshold_rule(gateway, sensor).asset == pump


def test_mappings_stay_on_the_gateways_site(gateway, sensor, other_site):
    foreign_meter = MeterFactory(asset__site=other_site)
    mapping = MetricMapping(
        gateway=gateway, metric="Motor/Hours", target=MetricTarget.METER, meter=foreign_meter
    )
    with pytest.raises(ValidationError) as caught:
        mapping.full_clean()
    assert "another site" in caught.value.message_dict["meter"][0]
    with pytest.raises(ValidationError) as caught:
        MetricMapping(gateway=gateway, metric="x", target=MetricTarget.METER).full_clean()
    assert "needs the meter" in caught.value.message_dict["meter"][0]
    other_gateway = GatewayFactory(site=gateway.site)
    with pytest.raises(ValidationError) as caught:
        threshold_rule(other_gateway, sensor)
    assert "another gateway" in caught.value.message_dict["sensor"][0]
