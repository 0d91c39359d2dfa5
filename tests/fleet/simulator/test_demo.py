"""The embedded demo's gateway (`--demo`) and `run_demo`'s in-process beat."""

import pytest
from django.db import connection
from standardwebhooks.webhooks import Webhook

from assets.models import Meter
from demo.management.commands.run_demo import DEMO_BEAT, InProcessBeat
from fleet.simulator import (
    DEMO_GATEWAY_NAME,
    DEMO_HEARTBEAT_GRACE_SECONDS,
    DEMO_HEARTBEAT_INTERVAL_SECONDS,
    demo_gateway_prepare,
    sensors_of,
)
from gateways import gateway_secrets
from gateways.models import Gateway, GatewaySecret
from tests.factories import AssetFactory, MeterFactory


@pytest.fixture
def metered(site):
    """Four pumps with running-hours meters at the site."""
    pumps = [AssetFactory(site=site, tag=f"P-{n}", name=f"Pump {n}") for n in range(201, 205)]
    for pump in pumps:
        MeterFactory(asset=pump)
    return pumps


def live_secrets(gateway):
    return [
        gateway_secrets.decrypt(s.encrypted)
        for s in GatewaySecret.objects.filter(gateway=gateway, retired_at=None)
    ]


@pytest.mark.django_db
def test_the_demo_gateway_is_created_once_beating_fast_with_sensors_on_metered_assets(metered):
    gateway, secret = demo_gateway_prepare()
    assert gateway.name == DEMO_GATEWAY_NAME and gateway.site == metered[0].site
    assert gateway.heartbeat_interval_seconds == DEMO_HEARTBEAT_INTERVAL_SECONDS == 60
    assert gateway.heartbeat_grace_seconds == DEMO_HEARTBEAT_GRACE_SECONDS == 60
    specs = sensors_of(gateway)
    assert [(s.code, s.asset_tag, s.meter) for s in specs] == [
        ("temp-02", "P-202", "hours"),
        ("vib-01", "P-201", "hours"),
        ("vib-03", "P-203", "hours"),
    ]
    assert live_secrets(gateway) == [secret]
    again, new_secret = demo_gateway_prepare()
    assert again.pk == gateway.pk and Gateway.objects.filter(name=DEMO_GATEWAY_NAME).count() == 1
    assert new_secret != secret
    assert live_secrets(gateway) == [new_secret]  # the older one is retired
    assert again.sensors.count() == 3
    Webhook(new_secret)  # a well-formed whsec_ secret


@pytest.mark.django_db
def test_without_a_site_the_demo_gateway_asks_for_the_demo_data():
    with pytest.raises(LookupError, match="seed_demo"):
        demo_gateway_prepare()


@pytest.mark.django_db
@pytest.mark.skipif(
    "sqlite" not in __import__("django.conf").conf.settings.DATABASES["default"]["ENGINE"],
    reason="--demo runs on the embedded demo's SQLite only",
)
def test_demo_mode_sends_the_demo_gateways_story(metered, settings, monkeypatch):
    """On the demo's database, `--demo` issues a fresh secret and sends with it."""
    from io import StringIO

    from django.core.management import call_command

    from tests.fleet.simulator.transports import ClientTransport

    settings.DEBUG = True
    assert connection.vendor == "sqlite"
    from django.test import Client

    monkeypatch.setattr("fleet.simulator.HttpTransport", lambda url: ClientTransport(Client()))
    out = StringIO()
    call_command("simulate_gateway", "--demo", "--count", "1", stdout=out)
    text = out.getvalue()
    assert "a fresh secret was issued" in text
    assert " heartbeat 202 " in text and " readings 202 " in text
    gateway = Gateway.objects.get(name=DEMO_GATEWAY_NAME)
    assert gateway.last_heartbeat_at is not None
    assert not any(s.removeprefix("whsec_")[:12] in text for s in live_secrets(gateway))
    assert Meter.objects.filter(asset__in=metered, readings__isnull=False).count() == 3


class FakeMonotonic:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_the_in_process_beat_runs_the_fleet_check_every_minute(settings, monkeypatch):
    beat = InProcessBeat.from_settings(log=print)
    assert beat.entries["fleet.tasks.check_connectivity"] == 60.0
    assert set(DEMO_BEAT) <= set(settings.CELERY_BEAT_SCHEDULE)

    ran = []
    clock = FakeMonotonic()

    class Task:
        def __init__(self, name):
            self.name = name

        def apply(self):
            ran.append(self.name)
            return type("Result", (), {"failed": lambda self: False})()

    monkeypatch.setattr(
        "demo.management.commands.run_demo.app",
        type("App", (), {"tasks": {n: Task(n) for n in ("check", "sweep")}})(),
    )
    beat = InProcessBeat({"check": 60.0, "sweep": 30.0}, log=print, clock=clock)
    assert beat.run_due() == ["check", "sweep"]  # each right away
    clock.now += 30
    assert beat.run_due() == ["sweep"]
    clock.now += 30
    assert beat.run_due() == ["check", "sweep"]
    clock.now += 10
    assert beat.run_due() == []
    assert ran == ["check", "sweep", "sweep", "check", "sweep"]


def test_a_failing_task_is_logged_and_the_beat_goes_on(monkeypatch):
    lines = []

    class Failing:
        def apply(self):
            return type("Result", (), {"failed": lambda self: True, "result": ValueError("x")})()

    monkeypatch.setattr(
        "demo.management.commands.run_demo.app",
        type("App", (), {"tasks": {"check": Failing()}})(),
    )
    beat = InProcessBeat({"check": 60.0}, log=lines.append, clock=FakeMonotonic())
    assert beat.run_due() == ["check"]
    assert "check failed" in lines[0]


@pytest.mark.django_db
def test_the_seeded_gateways_online_at_the_start_keep_sending_heartbeats(site, pump):
    """Only the gateways the demo's story has silent fall silent while the demo runs."""
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from demo.management.commands.run_demo import SeededFleet
    from gateways.choices import Connectivity, SensorState
    from gateways.models import Sensor

    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        online = Gateway.objects.create(
            site=site, name="GW-01", last_seen_at=start, connectivity=Connectivity.ONLINE
        )
        watching = Sensor.objects.create(gateway=online, code="vib-1", asset=pump)
        offline = Gateway.objects.create(
            site=site,
            name="GW-03",
            last_seen_at=start - timedelta(hours=3),
            connectivity=Connectivity.OFFLINE,
        )
        simulated = Gateway.objects.create(
            site=site, name=DEMO_GATEWAY_NAME, last_seen_at=start, connectivity=Connectivity.ONLINE
        )
        seeded = SeededFleet(log=print)

        later = start + timedelta(minutes=30)
        clock.move_to(later)
        seeded.beat()

    assert seeded.ids == [online.pk]  # not the silent one, not the simulated one
    for gateway, heard in ((online, later), (offline, start - timedelta(hours=3))):
        gateway.refresh_from_db()
        assert gateway.last_seen_at == heard
    simulated.refresh_from_db()
    assert simulated.last_seen_at == start  # the simulator speaks for it
    watching.refresh_from_db()
    assert watching.last_sample_at == later
    assert watching.state == SensorState.NEVER_SEEN  # judged by the check, not the heartbeat
