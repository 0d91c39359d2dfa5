"""Sparkplug B end to end with the real processes: a pysparkplug edge node process, connected as
its gateway's broker client (made by `mqtt.access.sync_gateway`) to a private Mosquitto with
dynamic security, and the real host application, the `manage.py mqtt_consume` subprocess.

One story, in order: the host's retained STATE online; data from a node whose birth the host
missed rejected, recorded, and answered with the rebirth NCMD, which the node answers with its
births; readings stored once; a temperature hovering at its threshold raising one alert and one
work order; the node SIGKILLed, its will (NDEATH) putting the gateway offline with its silence
work; rebirth with the next bdSeq recovering it; the host SIGKILLed (its will: STATE offline),
started again (the node's data follows on) and stopped (STATE offline)."""

import pytest

from alerts.models import Alert
from assets.models import MeterReading
from gateways.choices import Connectivity, SensorState
from gateways.models import ConnectivityEvent, Sensor
from mqtt.models import RejectedMessage
from sparkplug.host import REBIRTH
from sparkplug.models import DeviceSession, MetricMapping, SequenceGap
from tests.mqtt.sparkplug_processes import Scene, readings, sparkplug_plant
from workorders.choices import DeviceIssue, Status
from workorders.models import WorkOrder

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("real_clock"),
]


@pytest.fixture
def plant(mosquitto, settings):
    settings.MQTT_URL = mosquitto.url
    return sparkplug_plant()


@pytest.fixture
def scene(mosquitto, plant, tmp_path):
    scene = Scene(mosquitto, plant, tmp_path)
    yield scene
    scene.close()


def test_a_pysparkplug_edge_node_through_the_real_consumer_as_host(plant, scene):
    gateway, meter, sensor = plant["gateway"], plant["meter"], plant["sensor"]
    watcher, host, until, session = scene.watcher, scene.host, scene.until, scene.session

    # The node is born before the host runs: nobody hears its births.
    first = scene.node(bdseq=0, hours=99, temp=60)
    online = scene.host_online()
    assert watcher.retained_state() == online

    # Data before birth: rejected, recorded against the gateway, and the host asks the node to
    # rebirth; the node answers with its births (the bdSeq of its connection, seq from 0).
    first.send("hours 100")
    until(lambda: RejectedMessage.objects.exists(), "the NDATA before birth rejected")
    rejection = RejectedMessage.objects.get()
    assert rejection.topic == "spBv1.0/plant/NDATA/line1"
    assert (rejection.gateway_id, rejection.site_id) == (gateway.pk, gateway.site_id)
    assert "before the edge node's NBIRTH" in rejection.reason
    until(lambda: watcher.commands, "the rebirth NCMD")
    ((topic, command),) = watcher.commands
    assert topic == "spBv1.0/plant/NCMD/line1"
    assert [(m.name, m.value) for m in command.metrics] == [(REBIRTH, True)]
    first.until(lambda out: "reborn" in out, "the node reborn")
    until(
        lambda: DeviceSession.objects.filter(sensor=sensor, online=True).exists(),
        "the node and its device born",
    )
    assert (session().online, session().bd_seq) == (True, 0)
    assert scene.connectivity() == Connectivity.ONLINE
    # The birth carries the rejected value (with its own timestamp): nothing was lost.
    assert readings(meter) == [100]

    # Data: readings stored once; a temperature hovering at 80 raises one alert and its work.
    first.send("hours 101,102")
    first.send("temps 79,80.5,79.5,81,80,80.2")
    until(lambda: readings(meter) == [100, 101, 102], "readings")
    until(lambda: MetricMapping.objects.filter(last_value=80.2).exists(), "temperatures")
    alert = Alert.objects.get(gateway=gateway)
    assert (alert.condition, alert.state) == ("temp_high", "active")
    until(lambda: WorkOrder.objects.filter(condition="temp_high").exists(), "its work")
    work = WorkOrder.objects.get(condition="temp_high")
    assert (work.asset_id, work.alert_count) == (plant["pump"].pk, 1)

    # Asked to rebirth again: its births carry the last values with their own timestamps, which
    # store no second reading and raise no second alert.
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

    # Killed: the broker publishes its will, the NDEATH with bdSeq 0, which the rebirth kept:
    # the gateway offline at once, with its silence work; the device's sensor stale.
    first.kill()
    until(lambda: scene.connectivity() == Connectivity.OFFLINE, "offline on the NDEATH")
    silence = WorkOrder.objects.get(gateway=gateway, device_issue=DeviceIssue.GATEWAY_SILENT)
    assert silence.status not in (Status.CANCELLED, Status.COMPLETED, Status.CLOSED)
    assert "NDEATH" in silence.description
    assert not session().online
    assert Sensor.objects.get(pk=sensor.pk).state == SensorState.STALE

    # Born again with the next bdSeq: online, its silence work recovered as the fleet does.
    second = scene.node(bdseq=1, hours=103, temp=81)
    until(lambda: scene.connectivity() == Connectivity.ONLINE, "online on the NBIRTH")
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

    # Started again: online; the live node's data follows on (nothing missed: no gap).
    online = scene.host_online()
    assert watcher.retained_state() == online
    second.send("hours 105")
    until(lambda: readings(meter) == [100, 101, 102, 103, 104, 105], "data after the restart")

    # Stopped: offline, said by the host itself.
    assert host.stop() == 0
    offline = watcher.state(online=False, since_ms=online["timestamp"], host=host)
    assert offline == {"online": False, "timestamp": online["timestamp"]}
    assert watcher.retained_state() == offline

    # Still raised from the first session (never back under 70): one alert, one work order.
    assert Alert.objects.filter(gateway=gateway).count() == 1
    assert WorkOrder.objects.filter(condition="temp_high").count() == 1
    assert MeterReading.objects.filter(meter=meter).count() == 6
    assert RejectedMessage.objects.count() == 1
    assert not SequenceGap.objects.exists()
