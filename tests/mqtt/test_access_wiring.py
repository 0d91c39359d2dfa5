"""How a gateway change reaches its broker client: the signal after commit, the receiver that
queues the sync only when the system has a broker, the beat entry, and the reconciliation's
plan (mqtt.access.access_commands), without a broker."""

import runpy
import uuid
from io import StringIO
from unittest import mock

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.management import call_command
from django.db import transaction
from kombu.exceptions import OperationalError

from gateways import services as gateway_services
from gateways.models import Gateway
from mqtt import access, dynsec, tasks
from mqtt.dynsec import Acl, Broker
from tests.factories import GatewayFactory, SiteFactory
from tests.workers import ROOT

pytestmark = pytest.mark.django_db

URL = "mqtt://cmms:secret@broker.example:1883"


@pytest.fixture
def delay(settings):
    settings.MQTT_URL = URL
    with mock.patch.object(tasks.sync_gateway_access, "delay") as delay:
        yield delay


class Boom(Exception):
    pass


def test_creating_a_gateway_queues_its_sync_after_commit(delay, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        gateway, _ = gateway_services.gateway_create(site=SiteFactory(), name="G")
        assert not delay.called  # not before the commit

    delay.assert_called_once_with(str(gateway.pk))


def test_a_rolled_back_change_queues_nothing(delay, django_capture_on_commit_callbacks):
    gateway = GatewayFactory()
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(Boom),
        transaction.atomic(),
    ):
        gateway_services.gateway_rotate_secret(gateway=gateway)
        raise Boom

    assert not delay.called


@pytest.mark.parametrize(
    ("change", "queued"),
    [
        (lambda gw: gateway_services.gateway_rotate_secret(gateway=gw), True),
        (lambda gw: gateway_services.gateway_set_active(gateway=gw, is_active=False), True),
        (lambda gw: gateway_services.gateway_set_active(gateway=gw, is_active=True), False),
        (lambda gw: gateway_services.gateway_update(gateway=gw, is_active=False), True),
        (lambda gw: gateway_services.gateway_update(gateway=gw, is_active=True), False),
        (
            lambda gw: gateway_services.gateway_update(
                gateway=gw, sparkplug_group_id="plant", sparkplug_edge_node_id="press-1"
            ),
            True,
        ),
        (lambda gw: gateway_services.gateway_update(gateway=gw, name="Renamed"), False),
        (lambda gw: gateway_services.gateway_retire_secrets(gateway=gw), False),  # none older
    ],
    ids=[
        "rotate",
        "disable",
        "enable-unchanged",
        "update-disable",
        "update-unchanged",
        "sparkplug-identity",
        "rename",
        "retire-nothing",
    ],
)
def test_each_change_of_who_may_connect_queues_a_sync(
    delay, django_capture_on_commit_callbacks, change, queued
):
    gateway = GatewayFactory()

    with django_capture_on_commit_callbacks(execute=True):
        change(gateway)

    assert delay.call_args_list == ([mock.call(str(gateway.pk))] if queued else [])


def test_retiring_old_secrets_queues_a_sync(delay, django_capture_on_commit_callbacks):
    gateway = GatewayFactory()
    gateway_services.gateway_rotate_secret(gateway=gateway)  # not committed: nothing queued

    with django_capture_on_commit_callbacks(execute=True):
        assert gateway_services.gateway_retire_secrets(gateway=gateway) == 1

    delay.assert_called_once_with(str(gateway.pk))


def test_without_mqtt_url_nothing_is_queued_or_sent(settings, django_capture_on_commit_callbacks):
    settings.MQTT_URL = ""
    with (
        mock.patch.object(tasks.sync_gateway_access, "delay") as delay,
        mock.patch.object(access, "sync_gateway", side_effect=AssertionError) as sync,
        django_capture_on_commit_callbacks(execute=True),
    ):
        gateway, _ = gateway_services.gateway_create(site=SiteFactory(), name="G")
        tasks.sync_gateway_access.apply(args=[str(gateway.pk)]).get()
        tasks.sync_all_gateway_access.apply().get()

    assert not delay.called
    assert not sync.called
    out = StringIO()
    call_command("mqtt_sync_access", stdout=out)
    assert "MQTT_URL is not set" in out.getvalue()


def test_a_celery_broker_outage_does_not_fail_the_change(
    delay, django_capture_on_commit_callbacks, caplog
):
    delay.side_effect = OperationalError("Connection refused")

    with django_capture_on_commit_callbacks(execute=True):
        _, secret = gateway_services.gateway_create(site=SiteFactory(), name="G")

    assert secret.startswith("whsec_")
    assert "periodic reconciliation" in caplog.text


def test_the_beat_reconciles_every_ten_minutes_only_with_a_broker(monkeypatch):
    def beat_entry(mqtt_url: str):
        monkeypatch.setenv("MQTT_URL", mqtt_url)
        values = runpy.run_path(str(ROOT / "cmms" / "settings.py"))
        return values["CELERY_BEAT_SCHEDULE"].get("mqtt-sync-access")

    assert beat_entry("") is None
    assert beat_entry(URL) == {"task": "mqtt.tasks.sync_all_gateway_access", "schedule": 600.0}


def test_a_sparkplug_node_belongs_to_one_gateway():
    gateway_services.gateway_update(
        gateway=GatewayFactory(), sparkplug_group_id="plant", sparkplug_edge_node_id="press-1"
    )
    gateway = GatewayFactory()

    with pytest.raises(
        ValidationError, match="Another gateway already has this Sparkplug group and edge node id"
    ):
        gateway_services.gateway_update(
            gateway=gateway, sparkplug_group_id="plant", sparkplug_edge_node_id="press-1"
        )
    with pytest.raises(ValidationError, match="both its group id and its edge node id"):
        gateway_services.gateway_update(
            gateway=Gateway.objects.get(pk=gateway.pk), sparkplug_group_id="plant"
        )


# --- the plan -------------------------------------------------------------------------------

GATEWAY_ID = str(uuid.uuid4())
ROLE = f"gateway-{GATEWAY_ID}"


def desired(*, enabled=True, fingerprint="abc", **identity) -> access.GatewayAccess:
    return access.GatewayAccess(
        username=GATEWAY_ID,
        password="whsec_secret",
        fingerprint=fingerprint,
        enabled=enabled,
        acls=access.gateway_acls(GATEWAY_ID, **identity),
    )


def broker_state(want: access.GatewayAccess, *, disabled=False, roles=(ROLE,)):
    client = {
        "username": GATEWAY_ID,
        "textdescription": want.textdescription,
        "roles": [{"rolename": name} for name in roles],
        **({"disabled": True} if disabled else {}),
    }
    role = {"rolename": ROLE, "acls": [acl.as_json() for acl in want.acls]}
    return client, role


def commands(want, *, client, role) -> list[str]:
    return [
        dynsec.describe(command)
        for command in access.access_commands(GATEWAY_ID, want, client=client, role=role)
    ]


def test_a_broker_that_agrees_gets_no_command():
    want = desired(group="plant", edge_node="press-1")
    client, role = broker_state(want)

    assert commands(want, client=client, role=role) == []


def test_a_new_gateway_gets_its_role_then_its_client_and_a_disabled_one_is_disabled_at_once():
    assert commands(desired(), client=None, role=None) == [
        f"createRole {ROLE}",
        f"createClient {GATEWAY_ID} (password set)",
    ]
    assert commands(desired(enabled=False), client=None, role=None)[-1] == (
        f"disableClient {GATEWAY_ID}"
    )


def test_disabling_comes_first_and_a_new_secret_sets_the_password():
    client, role = broker_state(desired())

    assert commands(desired(enabled=False, fingerprint="new"), client=client, role=role) == [
        f"disableClient {GATEWAY_ID}",
        f"modifyClient {GATEWAY_ID} (password set)",
    ]


def test_acls_roles_and_state_are_made_exact():
    client, role = broker_state(desired(group="plant", edge_node="old"), roles=[ROLE, "extra"])
    client["disabled"] = True

    assert commands(desired(group="plant", edge_node="new"), client=client, role=role) == [
        f"removeRoleACL {ROLE} publishClientSend spBv1.0/plant/+/old",
        f"removeRoleACL {ROLE} publishClientSend spBv1.0/plant/+/old/#",
        f"removeRoleACL {ROLE} subscribePattern spBv1.0/plant/DCMD/old/#",
        f"removeRoleACL {ROLE} subscribePattern spBv1.0/plant/NCMD/old",
        f"addRoleACL {ROLE} publishClientSend spBv1.0/plant/+/new",
        f"addRoleACL {ROLE} publishClientSend spBv1.0/plant/+/new/#",
        f"addRoleACL {ROLE} subscribePattern spBv1.0/plant/DCMD/new/#",
        f"addRoleACL {ROLE} subscribePattern spBv1.0/plant/NCMD/new",
        f"removeClientRole {GATEWAY_ID} extra",
        f"enableClient {GATEWAY_ID}",
    ]


def test_a_gateway_without_access_loses_what_the_broker_has():
    client, role = broker_state(desired())

    assert commands(None, client=client, role=role) == [
        f"deleteClient {GATEWAY_ID}",
        f"deleteRole {ROLE}",
    ]
    assert commands(None, client=None, role=None) == []


def test_a_denying_acl_on_the_broker_is_replaced():
    want = desired()
    client, role = broker_state(want)
    role["acls"][0]["allow"] = False

    assert commands(want, client=client, role=role) == [
        f"removeRoleACL {ROLE} publishClientSend cmms/v1/gateways/{GATEWAY_ID}/#",
        f"addRoleACL {ROLE} publishClientSend cmms/v1/gateways/{GATEWAY_ID}/#",
    ]


# --- the broker's address -------------------------------------------------------------------


def test_the_broker_is_read_from_mqtt_url():
    assert Broker.from_url("mqtts://sys%40cmms:p%2Fw@mq.example") == Broker(
        host="mq.example", port=8883, tls=True, username="sys@cmms", password="p/w"
    )
    assert Broker.from_url(URL).port == 1883
    for bad in ("http://u:p@host", "mqtt://host:1883", "mqtt://u:p@host:port"):
        with pytest.raises(ImproperlyConfigured):
            Broker.from_url(bad)


def test_a_password_never_appears_in_a_description_or_a_repr():
    command = dynsec.create_client("gw", "whsec_topsecret", roles=["r"])

    assert "topsecret" not in dynsec.describe(command)
    assert "whsec_secret" not in repr(desired())
    assert "secret" not in repr(Broker.from_url(URL))
    assert Acl.from_json({"acltype": "a", "topic": "t"}).allow is False
