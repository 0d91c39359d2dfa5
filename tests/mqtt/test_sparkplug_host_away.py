"""Sparkplug B with the real processes when the host was away: a pysparkplug edge node process
dies and is born again while the host (`manage.py mqtt_consume`) is not running. Sparkplug
births, data and deaths travel with QoS 0, which the broker does not keep for an absent
subscriber: the host misses the death (bdSeq 0) and the new birth (bdSeq 1), and the first it
hears of the new session is data whose sequence number does not follow."""

import pytest

from gateways.choices import Connectivity
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
    killed and started again (bdSeq 1: NBIRTH 0, DBIRTH 1) unheard; the host started again;
    the node's NDATA with seq 2. Returns the second node."""
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
    scene.until(lambda: readings(meter) == [99, 101, 104], "the data after the gap")
    return second


def test_data_after_a_rebirth_the_host_missed_is_a_sequence_gap_recorded_and_applied(plant, scene):
    reborn_while_the_host_was_away(scene, plant["meter"])

    gap = SequenceGap.objects.get()
    assert (gap.gateway_id, gap.expected, gap.got) == (plant["gateway"].pk, 3, 2)
    assert gap.topic == "spBv1.0/plant/NDATA/line1"
    assert scene.connectivity() == Connectivity.ONLINE
    assert not RejectedMessage.objects.exists()


@pytest.mark.xfail(
    strict=True,
    reason=(
        "Sparkplug 3.0 message ordering: a host that sees a sequence number out of order "
        "should (after its reorder timeout) send the node a rebirth request. The host only "
        "records the gap (sparkplug.host._Message.sequence), and mqtt/consumer.py publishes "
        "a rebirth only for a rejection that carries one (_ask_rebirth): an accepted message "
        "has no way to ask for it. So a node reborn while the host was away keeps its old "
        "bdSeq in the host's session, and its death (NDEATH with the new bdSeq) is ignored as "
        "the will of an earlier session: the gateway reads online until the fleet check "
        "finds it silent."
    ),
)
def test_a_node_reborn_while_the_host_was_away_is_asked_to_rebirth_and_its_death_heard(
    plant, scene
):
    second = reborn_while_the_host_was_away(scene, plant["meter"])

    wait_until(
        lambda: scene.watcher.commands,
        timeout=SHORT,
        message=lambda: f"no rebirth request after the gap; host: {scene.host.output()}",
    )
    ((topic, command),) = scene.watcher.commands
    assert topic == "spBv1.0/plant/NCMD/line1"
    assert [(m.name, m.value) for m in command.metrics] == [(REBIRTH, True)]
    scene.until(lambda: scene.session().bd_seq == 1, "the node reborn, its bdSeq heard")

    second.kill()
    scene.until(lambda: scene.connectivity() == Connectivity.OFFLINE, "offline on the NDEATH")
