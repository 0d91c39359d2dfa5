"""Sparkplug B with the real processes when the host was away: a pysparkplug edge node process
dies and is born again while the host (`manage.py mqtt_consume`) is not running. Sparkplug
births, data and deaths travel with QoS 0: a broker configured as docs/mqtt-broker.md says
keeps them for the host's persistent session, and one that does not drops them, so the host
hears of the new session only by data whose sequence number does not follow."""

import pytest

from gateways.choices import Connectivity
from gateways.models import ConnectivityEvent
from mqtt.models import RejectedMessage
from sparkplug.host import REBIRTH
from sparkplug.models import SequenceGap
from tests.mqtt.sparkplug_processes import Scene, readings, sparkplug_plant
from tests.workers import wait_until

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("real_clock"),
]
SHORT = 3  # seconds: the host answers within milliseconds


@pytest.fixture
def plant(mosquitto, settings):
    settings.MQTT_URL = mosquitto.url
    return sparkplug_plant()


@pytest.fixture
def scene(mosquitto, plant, tmp_path):
    scene = Scene(mosquitto, plant, tmp_path)
    yield scene
    scene.close()


def reborn_while_the_host_was_away(scene, meter):
    """Node bdSeq 0 born and heard (NBIRTH seq 0, DBIRTH 1, NDATA 2); the host killed; the node
    killed and started again (bdSeq 1: NBIRTH 0, DBIRTH 1, hours 103) while the host is away;
    the host started again; the node's NDATA 104 with seq 2. Returns the second node."""
    scene.host_online()
    first = scene.node(bdseq=0, hours=99, temp=60)
    scene.until(lambda: readings(meter) == [99], "the first birth")
    first.send("hours 101")
    scene.until(lambda: readings(meter) == [99, 101], "the first data")
    assert (scene.session().bd_seq, scene.session().seq) == (0, 2)

    scene.host.kill()
    first.kill()
    second = scene.node(bdseq=1, hours=103, temp=81)
    scene.host_online()
    second.send("hours 104")
    return second


def test_a_broker_queueing_qos_0_gives_the_host_what_it_missed_in_order(plant, scene):
    """As docs/mqtt-broker.md configures the broker (queue_qos0_messages): the consumer's
    persistent session kept the death and the new birth, so nothing is missed or out of order."""
    meter = plant["meter"]
    second = reborn_while_the_host_was_away(scene, meter)
    scene.until(lambda: readings(meter) == [99, 101, 103, 104], "the missed birth, then data")
    assert scene.session().bd_seq == 1
    assert not SequenceGap.objects.exists()
    assert scene.connectivity() == Connectivity.ONLINE
    # The death of the first session was heard: its silence work opened and was recovered.
    assert list(
        ConnectivityEvent.objects.filter(gateway=plant["gateway"], sensor=None)
        .order_by("at", "pk")
        .values_list("to_state", flat=True)
    )[-2:] == [Connectivity.OFFLINE, Connectivity.ONLINE]
    assert not scene.watcher.commands
    second.kill()
    scene.until(lambda: scene.connectivity() == Connectivity.OFFLINE, "offline on the NDEATH")


@pytest.mark.parametrize("mosquitto", [False], indirect=True, ids=["qos0-dropped"])
def test_a_gap_after_a_rebirth_the_host_missed_asks_the_node_to_rebirth(plant, scene):
    """A broker that drops QoS 0 for absent sessions (or a queue that overflowed): the host
    misses the death (bdSeq 0) and the new birth (bdSeq 1), and first hears data whose sequence
    number does not follow. It records the gap, applies the data, and asks for a rebirth; the
    births tell it the new bdSeq, so the node's death is heard."""
    meter = plant["meter"]
    second = reborn_while_the_host_was_away(scene, meter)
    scene.until(lambda: 104 in readings(meter), "the data after the gap")

    gap = SequenceGap.objects.get()
    assert (gap.gateway_id, gap.expected, gap.got) == (plant["gateway"].pk, 3, 2)
    assert gap.topic == "spBv1.0/plant/NDATA/line1"
    assert not RejectedMessage.objects.exists()
    wait_until(
        lambda: scene.watcher.commands,
        timeout=SHORT,
        message=lambda: f"no rebirth request after the gap; host: {scene.host.output()}",
    )
    ((topic, command),) = scene.watcher.commands
    assert topic == "spBv1.0/plant/NCMD/line1"
    assert [(m.name, m.value) for m in command.metrics] == [(REBIRTH, True)]
    scene.until(lambda: scene.session().bd_seq == 1, "the node reborn, its bdSeq heard")
    assert scene.connectivity() == Connectivity.ONLINE

    second.kill()
    scene.until(lambda: scene.connectivity() == Connectivity.OFFLINE, "offline on the NDEATH")
