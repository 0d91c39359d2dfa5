"""Sparkplug B end to end with the real processes: a pysparkplug edge node process, connected as
its gateway's broker client (made by `mqtt.access.sync_gateway`) to a private Mosquitto with
dynamic security, and the real host application, the `manage.py mqtt_consume` subprocess.

One story, in order: the host's retained STATE online; data from a node whose birth the host
missed rejected, recorded, and answered with the rebirth NCMD, which the node answers with its
births; readings stored once; a temperature hovering at its threshold raising one alert and one
work order; the node SIGKILLed, its will (NDEATH) putting the gateway offline with its silence
work; rebirth with the next bdSeq recovering it; the host SIGKILLed (its will: STATE offline)
and stopped (STATE offline)."""

import pytest

from alerts.models import Alert
from assets.models import MeterReading
from gateways import services as gateway_services
from gateways.choices import Connectivity, SensorState
from gateways.models import ConnectivityEvent, Gateway, Sensor
from mqtt import access
from mqtt.models import RejectedMessage
from pipeline.models import AlertRule
from sparkplug.choices import Direction, MetricTarget
from sparkplug.host import REBIRTH
from sparkplug.models import DeviceSession, EdgeNodeSession, MetricMapping, SequenceGap
from tests.factories import AssetFactory, MeterFactory, SiteFactory, gateway_with_secret
from tests.mqtt.sparkplug_processes import (
    TIMEOUT,
    EdgeNodeProcess,
    HostProcess,
    Watcher,
    now_ms,
)
from tests.workers import wait_until
from workorders.choices import DeviceIssue, Status
from workorders.models import WorkOrder

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("real_clock"),
]


def connectivity(gateway) -> str:
    return Gateway.objects.values_list("connectivity", flat=True).get(pk=gateway.pk)


def readings(meter) -> list[float]:
    values = MeterReading.objects.filter(meter=meter).values_list("value", flat=True)
    return sorted(float(v) for v in values)


@pytest.fixture
def plant(mosquitto, settings):
    """A gateway with a Sparkplug identity and its broker client, a temperature device watching
    a pump, its running hours mapped to a meter, its temperature to a threshold rule, and an
    alert rule making work of every alert."""
    site = SiteFactory()
    pump = AssetFactory(site=site, tag="P-101")
    meter = MeterFactory(asset=pump, code="hours")
    gateway, secret = gateway_with_secret(site=site)
    gateway = gateway_services.gateway_update(
        gateway=gateway, sparkplug_group_id="plant", sparkplug_edge_node_id="line1"
    )
    settings.MQTT_URL = mosquitto.url
    access.sync_gateway(gateway.pk)  # the client and role the gateway's commit asks for
    sensor = Sensor.objects.create(gateway=gateway, code="temp1", unit="C", asset=pump)
    MetricMapping.objects.create(
        gateway=gateway, metric="Motor/Hours", target=MetricTarget.METER, meter=meter
    )
    MetricMapping.objects.create(
        gateway=gateway,
        sensor=sensor,
        metric="Temperature",
        target=MetricTarget.THRESHOLD,
        asset=pump,
        condition="temp_high",
        severity="major",
        direction=Direction.ABOVE,
        threshold=80.0,
        clear_threshold=70.0,
    )
    AlertRule.objects.create(name="any", site=site, condition_pattern="*")
    return {
        "gateway": gateway,
        "credentials": (str(gateway.pk), secret),
        "sensor": sensor,
        "meter": meter,
        "pump": pump,
    }


def test_a_pysparkplug_edge_node_through_the_real_consumer_as_host(mosquitto, plant, tmp_path):
    gateway, meter, sensor = plant["gateway"], plant["meter"], plant["sensor"]
    watcher = Watcher(mosquitto.port)
    host = HostProcess(mosquitto.url, tmp_path / "host.log")
    log = tmp_path / "edge.log"
    nodes = []

    def until(predicate, what: str):
        return wait_until(
            predicate,
            timeout=TIMEOUT,
            interval=0.05,
            message=lambda: f"{what}\nhost: {host.output()}\nedge nodes: {log.read_text()}",
        )

    def session():
        return EdgeNodeSession.objects.filter(gateway=gateway).first()

    try:
        # The node is born before the host runs: nobody hears its births.
        first = EdgeNodeProcess(
            mosquitto.port, plant["credentials"], log, bdseq=0, hours=99, temp=60
        )
        nodes.append(first)

        since = now_ms()
        host.start()
        online = watcher.state(online=True, since_ms=since, host=host)
        assert watcher.retained_state() == online

        # Data before birth: rejected, recorded against the gateway, and the host asks the node
        # to rebirth; the node answers with its births (bdSeq of its connection, seq from 0).
        first.send("hours 100")
        until(lambda: RejectedMessage.objects.exists(), "the NDATA before birth rejected")
        rejection = RejectedMessage.objects.get()
        assert rejection.topic == "spBv1.0/plant/NDATA/line1"
        assert rejection.gateway_id == gateway.pk
        assert "before the edge node's NBIRTH" in rejection.reason
        until(lambda: watcher.commands, "the rebirth NCMD")
        ((topic, command),) = watcher.commands
        watcher.commands.clear()
        assert topic == "spBv1.0/plant/NCMD/line1"
        assert [(m.name, m.value) for m in command.metrics] == [(REBIRTH, True)]
        first.until(lambda out: "reborn" in out, "the node reborn")
        until(
            lambda: DeviceSession.objects.filter(sensor=sensor, online=True).exists(),
            "the node and its device born",
        )
        assert (session().online, session().bd_seq) == (True, 0)
        assert connectivity(gateway) == Connectivity.ONLINE
        # The birth carries the rejected value (with its own timestamp): nothing was lost.
        assert readings(meter) == [100]

        # Data: readings stored once; a temperature hovering at 80 raises one alert.
        first.send("hours 101,102")
        first.send("temps 79,80.5,79.5,81,80,80.2")
        until(lambda: readings(meter) == [100, 101, 102], "readings")
        until(lambda: MetricMapping.objects.filter(last_value=80.2).exists(), "temperatures")
        alert = Alert.objects.get(gateway=gateway)
        assert (alert.condition, alert.state) == ("temp_high", "active")
        until(lambda: WorkOrder.objects.filter(condition="temp_high").exists(), "its work")
        work = WorkOrder.objects.get(condition="temp_high")
        assert (work.asset_id, work.alert_count) == (plant["pump"].pk, 1)

        # Asked to rebirth again: its births carry the last values with their own timestamps,
        # which store no second reading and raise no second alert.
        born = DeviceSession.objects.get(sensor=sensor).born_at
        watcher.ask_rebirth("plant", "line1")
        first.until(lambda out: out.count("reborn") == 2, "the node reborn again")
        until(
            lambda: DeviceSession.objects.filter(sensor=sensor, born_at__gt=born).exists(),
            "the node and its device born again",
        )
        assert (session().online, session().bd_seq, session().seq) == (True, 0, 1)
        assert readings(meter) == [100, 101, 102]
        assert Alert.objects.filter(gateway=gateway).count() == 1

        # Killed: the broker publishes its will, the NDEATH with bdSeq 0, which the rebirth
        # kept: the gateway offline at once, with its silence work; the device's sensor stale.
        first.kill()
        until(lambda: connectivity(gateway) == Connectivity.OFFLINE, "offline on the NDEATH")
        silence = WorkOrder.objects.get(gateway=gateway, device_issue=DeviceIssue.GATEWAY_SILENT)
        assert silence.status not in (Status.CANCELLED, Status.COMPLETED, Status.CLOSED)
        assert "NDEATH" in silence.description
        assert not session().online
        assert Sensor.objects.get(pk=sensor.pk).state == SensorState.STALE

        # Born again with the next bdSeq: online, its silence work recovered as the fleet does.
        second = EdgeNodeProcess(
            mosquitto.port, plant["credentials"], log, bdseq=1, hours=103, temp=81
        )
        nodes.append(second)
        until(lambda: connectivity(gateway) == Connectivity.ONLINE, "online on the NBIRTH")
        second.send("hours 104")
        second.send("temps 82")
        until(lambda: readings(meter) == [100, 101, 102, 103, 104], "readings again")
        until(lambda: MetricMapping.objects.filter(last_value=82).exists(), "temperature")
        assert (session().online, session().bd_seq) == (True, 1)
        silence.refresh_from_db()
        assert silence.status == Status.CANCELLED
        assert Sensor.objects.get(pk=sensor.pk).state == SensorState.LIVE
        states = ConnectivityEvent.objects.filter(gateway=gateway, sensor=None).order_by("at", "id")
        assert list(states.values_list("to_state", flat=True)) == [
            Connectivity.ONLINE,
            Connectivity.OFFLINE,
            Connectivity.ONLINE,
        ]

        # The host SIGKILLed: its will, the offline STATE with its connection's timestamp.
        host.kill()
        offline = watcher.state(online=False, since_ms=online["timestamp"], host=host)
        assert offline == {"online": False, "timestamp": online["timestamp"]}
        assert watcher.retained_state() == offline

        # Started again, then stopped: online, then offline, said by the host itself.
        since = now_ms()
        host.start()
        online = watcher.state(online=True, since_ms=since, host=host)
        assert watcher.retained_state() == online
        assert host.stop() == 0
        offline = watcher.state(online=False, since_ms=online["timestamp"], host=host)
        assert offline == {"online": False, "timestamp": online["timestamp"]}
        assert watcher.retained_state() == offline
    finally:
        host.kill()
        for node in nodes:
            node.kill()
        watcher.close()

    # Still raised from the first session (never back under 70): one alert, one work order.
    assert Alert.objects.filter(gateway=gateway).count() == 1
    assert WorkOrder.objects.filter(condition="temp_high").count() == 1
    assert MeterReading.objects.filter(meter=meter).count() == 5
    assert RejectedMessage.objects.count() == 1
    assert not SequenceGap.objects.exists()
