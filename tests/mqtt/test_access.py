"""Gateways' broker access, proved against a real Mosquitto with dynamic security: who may
connect as a gateway and what it may publish follows the database (mqtt.access).

Changes go through the gateway services and their commit (the signal, the receiver, the Celery
task run in-process), as in production; each assertion is the broker's own answer (CONNACK,
SUBACK, what an admin subscriber receives).
"""

import threading
import uuid
from io import StringIO

import paho.mqtt.client as mqtt
import pytest
from celery.exceptions import Retry
from django.core.management import CommandError, call_command
from django.utils import timezone

from gateways import services as gateway_services
from gateways.models import GatewaySecret
from mqtt import access, dynsec, tasks
from tests.factories import SiteFactory
from tests.mosquitto import ADMIN_PASSWORD, ADMIN_USERNAME
from tests.workers import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

REFUSED = 0x80
TIMEOUT = 5


def wait_for(predicate, message=""):
    """A broker packet arrives within milliseconds: poll often, give up after TIMEOUT."""
    return wait_until(predicate, timeout=TIMEOUT, interval=0.005, message=message)


class Device:
    """An MQTT client as a gateway (or the admin) runs it; every wait is on a broker packet."""

    def __init__(self, port: int, username: str, password: str):
        self.port = port
        client_id = f"test-{uuid.uuid4().hex[:12]}"
        self.client = mqtt.Client(client_id, clean_session=True, reconnect_on_failure=False)
        self.client.username_pw_set(username, password)
        self.connack = None
        self.connected = threading.Event()
        self.disconnected = threading.Event()
        self.subacks: dict[int, tuple] = {}
        self.pubacks: set[int] = set()
        self.messages: list[tuple[str, bytes]] = []
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *args: self.disconnected.set()
        self.client.on_subscribe = lambda c, u, mid, granted: self.subacks.__setitem__(
            mid, tuple(granted)
        )
        self.client.on_publish = lambda c, u, mid: self.pubacks.add(mid)
        self.client.on_message = lambda c, u, m: self.messages.append((m.topic, m.payload))

    def _on_connect(self, client, userdata, flags, rc):
        self.connack = rc
        if rc == 0:
            self.connected.set()
        else:
            self.disconnected.set()

    def connect(self) -> int:
        """The CONNACK code: 0 accepted, 4 bad user name or password, 5 not authorised."""
        self.client.connect("127.0.0.1", self.port, keepalive=10)
        self.client.loop_start()
        wait_for(lambda: self.connack is not None, "no CONNACK")
        return self.connack

    def subscribe(self, topic: str) -> int:
        """The granted QoS, or 0x80 when the broker refused the subscription."""
        _, mid = self.client.subscribe(topic, qos=1)
        (granted,) = wait_for(lambda: self.subacks.get(mid), topic)
        return granted

    def publish(self, topic: str, payload: bytes = b"{}") -> None:
        """Publish at QoS 1 and wait for the PUBACK (sent for a refused message too: MQTT
        3.1.1 has no way to say no, the broker drops it)."""
        info = self.client.publish(topic, payload, qos=1)
        wait_for(lambda: info.mid in self.pubacks, topic)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def broker(mosquitto, settings, real_clock):
    settings.MQTT_URL = mosquitto.url
    devices = []

    class Broker:
        port = mosquitto.port

        def device(self, username, password) -> Device:
            device = Device(mosquitto.port, str(username), password)
            devices.append(device)
            return device

        def connack(self, username, password) -> int:
            device = self.device(username, password)
            code = device.connect()
            device.close()
            return code

        def admin(self) -> Device:
            """The system's account, subscribed to every gateway topic."""
            device = self.device(ADMIN_USERNAME, ADMIN_PASSWORD)
            assert device.connect() == 0
            assert device.subscribe("cmms/v1/gateways/#") == 1
            assert device.subscribe("spBv1.0/#") == 1
            return device

        def role(self, gateway) -> dict | None:
            with dynsec.Dynsec(mosquitto.url) as session:
                return session.fetch_client_and_role(str(gateway.pk), access.role_name(gateway.pk))

    yield Broker()
    for device in devices:
        device.close()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a service and its after-commit work (the signal, the sync task, in-process)."""

    def run(service, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return service(**kwargs)

    return run


@pytest.fixture
def gateway_with_secret(committed):
    def create(name="Gateway"):
        return committed(gateway_services.gateway_create, site=SiteFactory(), name=name)

    return create


def received(admin: Device, topic: str) -> bool:
    return any(message_topic == topic for message_topic, _ in admin.messages)


# --- connecting ---------------------------------------------------------------------------


def test_a_created_gateway_connects_with_its_id_and_newest_secret(broker, gateway_with_secret):
    gateway, secret = gateway_with_secret()

    assert broker.connack(gateway.pk, secret) == mqtt.CONNACK_ACCEPTED


def test_a_wrong_password_or_an_unknown_gateway_is_refused(broker, gateway_with_secret):
    gateway, secret = gateway_with_secret()
    _, other_secret = gateway_with_secret()

    assert broker.connack(gateway.pk, "whsec_wrong") != mqtt.CONNACK_ACCEPTED
    assert broker.connack(gateway.pk, other_secret) != mqtt.CONNACK_ACCEPTED
    assert broker.connack(uuid.uuid4(), secret) != mqtt.CONNACK_ACCEPTED


def test_gateway_a_cannot_publish_on_gateway_bs_topics(broker, gateway_with_secret):
    a, a_secret = gateway_with_secret("A")
    b, _ = gateway_with_secret("B")
    admin = broker.admin()
    device = broker.device(a.pk, a_secret)
    assert device.connect() == 0

    # One publisher's messages reach a subscriber in order: once A's own message has arrived,
    # the one on B's topic would have arrived before it, had the broker let it through.
    device.publish(f"cmms/v1/gateways/{b.pk}/alerts", b'{"forged": true}')
    device.publish(f"cmms/v1/gateways/{a.pk}/alerts", b'{"own": true}')
    wait_for(lambda: received(admin, f"cmms/v1/gateways/{a.pk}/alerts"))

    assert not received(admin, f"cmms/v1/gateways/{b.pk}/alerts")
    assert device.subscribe(f"cmms/v1/gateways/{b.pk}/#") == REFUSED
    assert device.subscribe("#") == REFUSED


# --- disabling, rotating, retiring ----------------------------------------------------------


def test_a_disabled_gateway_is_disconnected_and_refused_until_enabled_again(
    broker, gateway_with_secret, committed
):
    gateway, secret = gateway_with_secret()
    connected = broker.device(gateway.pk, secret)
    assert connected.connect() == 0

    committed(gateway_services.gateway_set_active, gateway=gateway, is_active=False)

    assert connected.disconnected.wait(TIMEOUT), "the broker kept the disabled gateway"
    assert broker.connack(gateway.pk, secret) == mqtt.CONNACK_REFUSED_NOT_AUTHORIZED

    committed(gateway_services.gateway_update, gateway=gateway, is_active=True)

    assert broker.connack(gateway.pk, secret) == mqtt.CONNACK_ACCEPTED


def test_a_gateway_created_disabled_never_connects(broker, gateway_with_secret):
    gateway, secret = gateway_with_secret()
    with dynsec.Dynsec() as session:
        session.run([dynsec.delete_client(str(gateway.pk))])
    gateway_services.gateway_set_active(gateway=gateway, is_active=False)  # no commit: no sync

    access.sync_gateway(gateway.pk)

    client, _ = broker.role(gateway)
    assert client["disabled"] is True
    assert broker.connack(gateway.pk, secret) == mqtt.CONNACK_REFUSED_NOT_AUTHORIZED


def test_after_a_rotation_the_new_secret_connects_and_the_old_one_is_refused(
    broker, gateway_with_secret, committed
):
    gateway, old = gateway_with_secret()
    connected = broker.device(gateway.pk, old)
    assert connected.connect() == 0

    new = committed(gateway_services.gateway_rotate_secret, gateway=gateway)

    # The plugin disconnects a client whose password changes: the gateway reconnects with the
    # new secret (the webhook keeps accepting both until they are retired).
    assert connected.disconnected.wait(TIMEOUT)
    assert broker.connack(gateway.pk, new) == mqtt.CONNACK_ACCEPTED
    assert broker.connack(gateway.pk, old) != mqtt.CONNACK_ACCEPTED

    committed(gateway_services.gateway_retire_secrets, gateway=gateway)

    assert broker.connack(gateway.pk, new) == mqtt.CONNACK_ACCEPTED


def test_a_gateway_without_a_live_secret_or_deleted_loses_its_client_and_role(
    broker, gateway_with_secret
):
    retired, retired_secret = gateway_with_secret("retired")
    deleted, deleted_secret = gateway_with_secret("deleted")
    GatewaySecret.objects.filter(gateway=retired).update(retired_at=timezone.now())
    deleted.delete()

    assert access.sync_gateway(retired.pk) == [
        f"deleteClient {retired.pk}",
        f"deleteRole gateway-{retired.pk}",
    ]
    call_command("mqtt_sync_access", stdout=StringIO())

    assert broker.role(retired) == (None, None)
    assert broker.role(deleted) == (None, None)
    assert broker.connack(retired.pk, retired_secret) != mqtt.CONNACK_ACCEPTED
    assert broker.connack(deleted.pk, deleted_secret) != mqtt.CONNACK_ACCEPTED


# --- Sparkplug ------------------------------------------------------------------------------


def test_sparkplug_acls_follow_the_gateways_identity(broker, gateway_with_secret, committed):
    gateway, secret = gateway_with_secret()
    other, _ = gateway_with_secret()
    committed(
        gateway_services.gateway_update,
        gateway=other,
        sparkplug_group_id="plant",
        sparkplug_edge_node_id="other",
    )
    committed(
        gateway_services.gateway_update,
        gateway=gateway,
        sparkplug_group_id="plant",
        sparkplug_edge_node_id="press-1",
    )

    _, role = broker.role(gateway)
    assert {(acl["acltype"], acl["topic"]) for acl in role["acls"]} == {
        ("publishClientSend", f"cmms/v1/gateways/{gateway.pk}/#"),
        ("publishClientSend", "spBv1.0/plant/+/press-1"),
        ("publishClientSend", "spBv1.0/plant/+/press-1/#"),
        ("subscribePattern", "spBv1.0/plant/NCMD/press-1"),
        ("subscribePattern", "spBv1.0/plant/DCMD/press-1/#"),
        ("subscribePattern", "spBv1.0/STATE/#"),
    }
    admin = broker.admin()
    device = broker.device(gateway.pk, secret)
    assert device.connect() == 0
    assert device.subscribe("spBv1.0/STATE/#") == 1
    assert device.subscribe("spBv1.0/plant/NCMD/press-1") == 1
    assert device.subscribe("spBv1.0/plant/DCMD/press-1/+") == 1
    assert device.subscribe("spBv1.0/plant/NCMD/other") == REFUSED
    device.publish("spBv1.0/plant/NBIRTH/other")
    device.publish("spBv1.0/plant/DDATA/press-1/vibration-1")
    device.publish("spBv1.0/plant/NBIRTH/press-1")
    wait_for(lambda: received(admin, "spBv1.0/plant/NBIRTH/press-1"))
    assert received(admin, "spBv1.0/plant/DDATA/press-1/vibration-1")
    assert not received(admin, "spBv1.0/plant/NBIRTH/other")

    # A new identity: the old node's topics are closed to it, the new ones open, at once (the
    # broker checks every publish and subscription against the role as it is then).
    committed(gateway_services.gateway_update, gateway=gateway, sparkplug_edge_node_id="press-2")
    assert device.subscribe("spBv1.0/plant/NCMD/press-1") == REFUSED
    assert device.subscribe("spBv1.0/plant/NCMD/press-2") == 1
    device.publish("spBv1.0/plant/NBIRTH/press-1")
    device.publish("spBv1.0/plant/NBIRTH/press-2")
    wait_for(lambda: received(admin, "spBv1.0/plant/NBIRTH/press-2"))
    assert [topic for topic, _ in admin.messages].count("spBv1.0/plant/NBIRTH/press-1") == 1

    # Without an identity, only its plain JSON topics remain.
    committed(
        gateway_services.gateway_update,
        gateway=gateway,
        sparkplug_group_id="",
        sparkplug_edge_node_id="",
    )
    _, role = broker.role(gateway)
    assert [(acl["acltype"], acl["topic"]) for acl in role["acls"]] == [
        ("publishClientSend", f"cmms/v1/gateways/{gateway.pk}/#")
    ]


# --- reconciling ----------------------------------------------------------------------------


def test_reconciling_twice_changes_nothing_and_keeps_gateways_connected(
    broker, gateway_with_secret
):
    gateway, secret = gateway_with_secret()
    connected = broker.device(gateway.pk, secret)
    assert connected.connect() == 0

    assert access.sync_gateway(gateway.pk) == []
    assert access.sync_all_gateways() == access.Reconciliation()

    assert connected.subscribe(f"cmms/v1/gateways/{gateway.pk}/#") == REFUSED  # a round trip
    assert not connected.disconnected.is_set()


def test_the_reconcile_command_repairs_a_client_deleted_behind_the_systems_back(
    broker, gateway_with_secret
):
    gateway, secret = gateway_with_secret()
    gateway_with_secret()  # in sync: not mentioned
    with dynsec.Dynsec() as session:
        session.run([dynsec.delete_client(str(gateway.pk)), dynsec.create_client("not-ours", "x")])
    assert broker.connack(gateway.pk, secret) != mqtt.CONNACK_ACCEPTED

    out = StringIO()
    call_command("mqtt_sync_access", stdout=out)

    assert out.getvalue().splitlines() == [
        f"gateway {gateway.pk}:",
        f"  createClient {gateway.pk} (password set)",
        "1 gateway(s) changed.",
    ]
    assert secret not in out.getvalue()
    assert broker.connack(gateway.pk, secret) == mqtt.CONNACK_ACCEPTED
    with dynsec.Dynsec() as session:
        assert "not-ours" in {client["username"] for client in session.clients()}

    out = StringIO()
    call_command("mqtt_sync_access", stdout=out)
    assert out.getvalue() == "Every gateway was in sync.\n"


def test_a_refusal_for_one_gateway_does_not_stop_the_others(
    broker, gateway_with_secret, monkeypatch
):
    refused, _ = gateway_with_secret()
    repaired, secret = gateway_with_secret()
    with dynsec.Dynsec() as session:
        session.run([dynsec.delete_client(str(repaired.pk))])
    plan = access.access_commands

    def refused_plan(gateway_id, *args, **kwargs):
        if gateway_id == str(refused.pk):
            return [dynsec.delete_client("nobody")]
        return plan(gateway_id, *args, **kwargs)

    monkeypatch.setattr(access, "access_commands", refused_plan)
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError, match="1 gateway"):
        call_command("mqtt_sync_access", stdout=out, stderr=err)

    assert f"  createClient {repaired.pk} (password set)" in out.getvalue().splitlines()
    assert err.getvalue() == (
        f"gateway {refused.pk} not reconciled: deleteClient nobody: Client not found\n"
    )
    assert broker.connack(repaired.pk, secret) == mqtt.CONNACK_ACCEPTED


# --- the broker unreachable -----------------------------------------------------------------


def test_an_unreachable_broker_is_retried_with_backoff_and_never_fails_a_service(
    broker, mosquitto, gateway_with_secret, committed
):
    gateway, _ = gateway_with_secret()
    mosquitto.stop()

    with pytest.raises(dynsec.DynsecUnavailable, match="Cannot reach the MQTT broker"):
        access.sync_gateway(gateway.pk)
    with pytest.raises(CommandError, match="Cannot reach the MQTT broker"):
        call_command("mqtt_sync_access", stdout=StringIO())
    # Rotating still works; the in-process task gives up quietly (the beat repairs it).
    new = committed(gateway_services.gateway_rotate_secret, gateway=gateway)
    # A worker retries, later each time.
    request = {"args": [str(gateway.pk)], "kwargs": {}, "retries": 3, "called_directly": False}
    tasks.sync_gateway_access.push_request(**request)
    try:
        with pytest.raises(Retry) as retry:
            tasks.sync_gateway_access.run(str(gateway.pk))
    finally:
        tasks.sync_gateway_access.pop_request()
    assert 30 <= retry.value.when <= 40

    mosquitto.start()
    tasks.sync_all_gateway_access.apply()
    assert broker.connack(gateway.pk, new) == mqtt.CONNACK_ACCEPTED


def test_a_wrong_admin_password_is_an_error_not_an_outage(mosquitto):
    url = mosquitto.url.replace(ADMIN_PASSWORD, "wrong")

    with pytest.raises(dynsec.DynsecError, match="refused the system's account") as error:
        dynsec.Dynsec(url).__enter__()

    assert not isinstance(error.value, dynsec.DynsecUnavailable)
    assert "wrong" not in str(error.value)


def test_many_commands_are_answered_in_order_across_control_messages(mosquitto):
    names = [f"client-{index}" for index in range(dynsec.COMMANDS_PER_MESSAGE + 20)]

    with dynsec.Dynsec(mosquitto.url) as session:
        session.run([dynsec.create_client(name, "x") for name in names[::2]])
        answers = session.execute([dynsec.get_client(name) for name in names])

    assert [bool(answer.get("error")) for answer in answers] == [
        index % 2 == 1 for index in range(len(names))
    ]
    assert [answer["data"]["client"]["username"] for answer in answers[::2]] == names[::2]
