"""A reconciliation holds its gateway's row from reading the database until the broker has
the change, so a concurrent rotation commits after it, and its own reconciliation (queued on
that commit) applies last: an older reading never overwrites a newer secret."""

import threading

import pytest
from django.db import connection

from gateways import gateway_secrets
from gateways import services as gateway_services
from gateways.models import GatewaySecret
from mqtt import access
from tests.factories import GatewayFactory

WAIT = 5


class RecordingBroker:
    """Stands for the broker: no client yet, and each run records the secret it would set,
    pausing the first time until released."""

    def __init__(self):
        self.applied: list[str] = []
        self.applying = threading.Event()
        self.release = threading.Event()

    def fetch_client_and_role(self, username, rolename):
        return None, None

    def run(self, commands):
        (create,) = [c for c in commands if c["command"] == "createClient"]
        self.applied.append(gateway_secrets.fingerprint(create["password"]))
        self.applying.set()
        assert self.release.wait(WAIT)


@pytest.mark.postgresql(reason="row locks between two connections")
@pytest.mark.django_db(transaction=True)
def test_a_rotation_waits_for_a_running_sync_and_the_newer_secret_is_applied_last(settings):
    settings.MQTT_URL = ""  # the commits below queue nothing; the test drives the syncs
    gateway = GatewayFactory()
    old = GatewaySecret.objects.get(gateway=gateway).fingerprint
    broker = RecordingBroker()
    rotated, errors = threading.Event(), []

    def in_thread(work):
        def run():
            try:
                work()
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                connection.close()

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    sync = in_thread(lambda: access.sync_gateway(gateway.pk, broker=broker))
    assert broker.applying.wait(WAIT)
    rotation = in_thread(
        lambda: (gateway_services.gateway_rotate_secret(gateway=gateway), rotated.set())
    )

    assert not rotated.wait(0.5), "the rotation committed while the sync was applying"
    broker.release.set()
    sync.join(WAIT)
    rotation.join(WAIT)
    assert rotated.is_set()
    assert errors == []

    access.sync_gateway(gateway.pk, broker=broker)  # what the rotation's commit queues

    new = GatewaySecret.objects.filter(gateway=gateway).exclude(fingerprint=old).get().fingerprint
    assert broker.applied == [old, new]


@pytest.mark.postgresql(reason="row locks between two connections")
@pytest.mark.django_db(transaction=True)
def test_the_gateways_messages_are_stored_while_its_sync_waits_for_the_broker(settings):
    """The sync's lock (FOR NO KEY UPDATE) leaves the foreign keys of the gateway's alerts and
    rejected messages free: ingestion never waits for the broker."""
    from django.utils import timezone

    from mqtt.records import rejected_message_record

    settings.MQTT_URL = ""
    gateway = GatewayFactory()
    broker = RecordingBroker()
    errors = []

    def run():
        try:
            access.sync_gateway(gateway.pk, broker=broker)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    sync = threading.Thread(target=run)
    sync.start()
    try:
        assert broker.applying.wait(WAIT)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '1s'")
        rejected_message_record(
            topic=f"cmms/v1/gateways/{gateway.pk}/alerts",
            payload=b"{",
            reason="Invalid JSON.",
            now=timezone.now(),
            gateway=gateway,
            qos=1,
            retain=False,
        )
    finally:
        broker.release.set()
        sync.join(WAIT)
    assert errors == []
