"""What a heartbeat stores: the gateway's health, its sensors (updated, registered, capped),
battery samples only when due, in a constant number of queries; and the recovery hook."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fleet import heartbeat as ingest_module
from gateways.choices import Connectivity, SensorState
from gateways.models import BatterySample, Gateway, Sensor
from tests.factories import AssetFactory, gateway_with_secret
from tests.webhooks import HeartbeatHook

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 30, 8, 0, 0, 123456, tzinfo=UTC)
SAMPLE_EVERY = timedelta(hours=6)


@pytest.fixture
def clock():
    """The clock stopped at NOW; `clock.shift(delta)` moves it."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _sample_every_six_hours(settings):
    settings.FLEET_BATTERY_SAMPLE_EVERY_SECONDS = int(SAMPLE_EVERY.total_seconds())


def stored(gateway) -> Gateway:
    return Gateway.objects.get(pk=gateway.pk)


def sensor(hook, code) -> Sensor:
    return Sensor.objects.get(gateway=hook.gateway, code=code)


def beat(hook, payload):
    response = hook.post(payload)
    assert response.status_code == 202, response.content
    return response.json()


# --- the gateway ------------------------------------------------------------------------


def test_it_stores_the_gateways_health_and_when_it_was_heard(heartbeat_hook, clock):
    answer = beat(
        heartbeat_hook,
        {"firmware": "2.4.1", "uptime_seconds": 86400, "signal_dbm": -71, "battery_percent": 88},
    )

    gateway = stored(heartbeat_hook.gateway)
    assert (gateway.last_seen_at, gateway.last_heartbeat_at) == (NOW, NOW)
    assert (gateway.firmware, gateway.uptime_seconds) == ("2.4.1", 86400)
    assert (gateway.signal_dbm, gateway.battery_percent) == (-71, 88)
    assert (gateway.connectivity, gateway.connectivity_since) == (Connectivity.ONLINE, NOW)
    assert answer == {
        "gateway": str(gateway.pk),
        "connectivity": Connectivity.ONLINE,  # its first sign of life, recorded at once
        "sensors": {"updated": 0, "registered": 0, "ignored": 0},
    }


def test_what_a_heartbeat_leaves_out_stays_as_it_was(heartbeat_hook, clock):
    beat(
        heartbeat_hook,
        {"firmware": "2.4.1", "uptime_seconds": 10, "signal_dbm": -71, "battery_percent": 88},
    )
    clock.shift(timedelta(minutes=1))

    beat(heartbeat_hook, {"uptime_seconds": 70, "firmware": None, "signal_dbm": None})

    gateway = stored(heartbeat_hook.gateway)
    assert (gateway.firmware, gateway.uptime_seconds) == ("2.4.1", 70)
    assert (gateway.signal_dbm, gateway.battery_percent) == (-71, 88)
    assert gateway.last_heartbeat_at == NOW + timedelta(minutes=1)


def test_a_null_battery_means_mains_powered_and_empties_the_level(heartbeat_hook, clock):
    beat(heartbeat_hook, {"battery_percent": 88})

    beat(heartbeat_hook, {"battery_percent": None})

    assert stored(heartbeat_hook.gateway).battery_percent is None


def test_the_heartbeats_exact_time_wins_over_the_minute_resolution_of_last_seen(
    heartbeat_hook, clock
):
    # An alert 30 s ago touched last_seen_at; the boundary would not touch it again yet.
    Gateway.objects.filter(pk=heartbeat_hook.gateway.pk).update(
        last_seen_at=NOW - timedelta(seconds=30)
    )

    beat(heartbeat_hook, {})

    gateway = stored(heartbeat_hook.gateway)
    assert gateway.last_seen_at == gateway.last_heartbeat_at == NOW


def test_an_empty_heartbeat_is_a_sign_of_life(heartbeat_hook, clock):
    beat(heartbeat_hook, {})

    gateway = stored(heartbeat_hook.gateway)
    assert gateway.last_heartbeat_at == NOW
    assert (gateway.firmware, gateway.uptime_seconds, gateway.battery_percent) == ("", None, None)


# --- sensors ----------------------------------------------------------------------------


def test_known_sensors_are_updated_and_unknown_ones_registered_without_an_asset(
    heartbeat_hook, clock, pump
):
    Sensor.objects.create(gateway=heartbeat_hook.gateway, code="vib-01", asset=pump)

    answer = beat(
        heartbeat_hook,
        {
            "sensors": [
                {
                    "id": "vib-01",
                    "last_sample_at": "2026-11-30T08:59:12+01:00",
                    "battery_percent": 61,
                    "signal_dbm": -80,
                },
                {"id": "temp-02", "last_sample_at": "2026-11-30T07:58:00Z"},
            ]
        },
    )

    assert answer["sensors"] == {"updated": 1, "registered": 1, "ignored": 0}
    known = sensor(heartbeat_hook, "vib-01")
    assert known.asset == pump
    assert known.last_sample_at == datetime(2026, 11, 30, 7, 59, 12, tzinfo=UTC)
    assert (known.battery_percent, known.signal_dbm, known.last_reported_at) == (61, -80, NOW)
    new = sensor(heartbeat_hook, "temp-02")
    assert new.asset is None and new.is_active
    assert new.last_sample_at == datetime(2026, 11, 30, 7, 58, tzinfo=UTC)
    assert (new.battery_percent, new.signal_dbm, new.last_reported_at) == (None, None, NOW)
    assert new.state == SensorState.NEVER_SEEN  # the checks judge it, not the heartbeat


def test_what_a_sensor_report_leaves_out_stays_and_a_null_battery_empties_it(heartbeat_hook, clock):
    beat(
        heartbeat_hook,
        {
            "sensors": [
                {
                    "id": "vib-01",
                    "last_sample_at": "2026-11-30T07:59:00Z",
                    "battery_percent": 61,
                    "signal_dbm": -80,
                }
            ]
        },
    )
    clock.shift(timedelta(minutes=1))

    beat(heartbeat_hook, {"sensors": [{"id": "vib-01", "battery_percent": None}]})

    known = sensor(heartbeat_hook, "vib-01")
    assert known.last_sample_at == datetime(2026, 11, 30, 7, 59, tzinfo=UTC)
    assert (known.battery_percent, known.signal_dbm) == (None, -80)
    assert known.last_reported_at == NOW + timedelta(minutes=1)


def test_an_inactive_sensor_is_updated_but_stays_inactive(heartbeat_hook, clock):
    Sensor.objects.create(gateway=heartbeat_hook.gateway, code="old", is_active=False)

    answer = beat(heartbeat_hook, {"sensors": [{"id": "old", "signal_dbm": -90}]})

    assert answer["sensors"]["updated"] == 1
    old = sensor(heartbeat_hook, "old")
    assert (old.is_active, old.signal_dbm, old.last_reported_at) == (False, -90, NOW)


def test_sensor_ids_are_per_gateway(heartbeat_hook, clock, site):
    other, _ = gateway_with_secret(site=site)
    theirs = Sensor.objects.create(gateway=other, code="vib-01", signal_dbm=-50)

    answer = beat(heartbeat_hook, {"sensors": [{"id": "vib-01", "signal_dbm": -80}]})

    assert answer["sensors"] == {"updated": 0, "registered": 1, "ignored": 0}
    theirs.refresh_from_db()
    assert (theirs.signal_dbm, theirs.last_reported_at) == (-50, None)
    assert sensor(heartbeat_hook, "vib-01").signal_dbm == -80


def test_sensor_ids_differ_by_case(heartbeat_hook, clock):
    answer = beat(heartbeat_hook, {"sensors": [{"id": "vib-01"}, {"id": "VIB-01"}]})

    assert answer["sensors"]["registered"] == 2


def test_beyond_the_cap_unknown_sensors_are_ignored_and_counted_known_ones_still_updated(
    heartbeat_hook, clock, monkeypatch
):
    monkeypatch.setattr(ingest_module, "MAX_SENSORS_PER_GATEWAY", 3)
    for code in ("a", "b"):
        Sensor.objects.create(gateway=heartbeat_hook.gateway, code=code)

    answer = beat(
        heartbeat_hook,
        {"sensors": [{"id": "x"}, {"id": "a", "signal_dbm": -60}, {"id": "y"}, {"id": "z"}]},
    )

    assert answer["sensors"] == {"updated": 1, "registered": 1, "ignored": 2}
    codes = set(
        Sensor.objects.filter(gateway=heartbeat_hook.gateway).values_list("code", flat=True)
    )
    assert codes == {"a", "b", "x"}  # the first unknown in the body's order
    assert sensor(heartbeat_hook, "a").signal_dbm == -60

    again = beat(heartbeat_hook, {"sensors": [{"id": "y"}, {"id": "x"}]})

    assert again["sensors"] == {"updated": 1, "registered": 0, "ignored": 1}
    assert Sensor.objects.filter(gateway=heartbeat_hook.gateway).count() == 3


def test_the_cap_counts_every_sensor_of_the_gateway_not_only_those_reported(
    heartbeat_hook, clock, monkeypatch
):
    monkeypatch.setattr(ingest_module, "MAX_SENSORS_PER_GATEWAY", 2)
    Sensor.objects.create(gateway=heartbeat_hook.gateway, code="a")
    Sensor.objects.create(gateway=heartbeat_hook.gateway, code="b", is_active=False)

    answer = beat(heartbeat_hook, {"sensors": [{"id": "c"}]})

    assert answer["sensors"] == {"updated": 0, "registered": 0, "ignored": 1}


# --- battery samples --------------------------------------------------------------------


def samples():
    """(sensor code, or "" for the gateway's own, at, percent) of every battery sample."""
    return sorted(
        (sample.sensor.code if sample.sensor else "", sample.at, sample.percent)
        for sample in BatterySample.objects.select_related("sensor")
    )


def test_battery_levels_are_sampled_for_the_gateway_and_each_sensor_that_has_one(
    heartbeat_hook, clock
):
    beat(
        heartbeat_hook,
        {
            "battery_percent": 88,
            "sensors": [
                {"id": "vib-01", "battery_percent": 61},
                {"id": "mains", "battery_percent": None},
                {"id": "silent"},
            ],
        },
    )

    assert samples() == [("", NOW, 88), ("vib-01", NOW, 61)]
    assert BatterySample.objects.get(sensor=None).gateway == heartbeat_hook.gateway


def test_battery_samples_are_taken_only_once_the_last_is_old_enough(heartbeat_hook, clock):
    def battery(gateway_level, sensor_level):
        beat(
            heartbeat_hook,
            {
                "battery_percent": gateway_level,
                "sensors": [{"id": "vib-01", "battery_percent": sensor_level}],
            },
        )

    battery(90, 60)
    clock.shift(SAMPLE_EVERY - timedelta(seconds=1))
    battery(89, 59)  # not due yet: the levels are stored, the trend is not
    assert samples() == [("", NOW, 90), ("vib-01", NOW, 60)]
    assert stored(heartbeat_hook.gateway).battery_percent == 89

    clock.shift(timedelta(seconds=1))
    battery(88, 58)

    due = NOW + SAMPLE_EVERY
    assert samples() == [("", NOW, 90), ("", due, 88), ("vib-01", NOW, 60), ("vib-01", due, 58)]


def test_each_device_is_sampled_on_its_own_schedule(heartbeat_hook, clock):
    beat(heartbeat_hook, {"battery_percent": 90})
    clock.shift(timedelta(hours=1))

    beat(heartbeat_hook, {"battery_percent": 90, "sensors": [{"id": "new", "battery_percent": 70}]})

    later = NOW + timedelta(hours=1)
    assert samples() == [("", NOW, 90), ("new", later, 70)]


def test_another_gateways_samples_do_not_count(heartbeat_hook, clock, site):
    other, _ = gateway_with_secret(site=site)
    BatterySample.objects.create(gateway=other, at=NOW, percent=50)

    beat(heartbeat_hook, {"battery_percent": 90})

    assert BatterySample.objects.filter(gateway=heartbeat_hook.gateway).count() == 1


# --- queries ----------------------------------------------------------------------------


def heartbeat_of(count: int, offset: int = 0) -> dict:
    return {
        "firmware": "2.4.1",
        "battery_percent": 80,
        "sensors": [
            {
                "id": f"s-{offset + n}",
                "last_sample_at": "2026-11-30T07:59:00Z",
                "battery_percent": 50,
                "signal_dbm": -70,
            }
            for n in range(count)
        ],
    }


def queries_of(hook, payload) -> int:
    with CaptureQueriesContext(connection) as captured:
        beat(hook, payload)
    return len(captured)


@pytest.mark.postgresql(reason="SQLite splits an insert into statements of 999 parameters")
@pytest.mark.parametrize("sensors", ["known", "new"])
def test_the_number_of_queries_does_not_grow_with_the_number_of_sensors(site, clock, sensors):
    counts = {}
    for size in (1, 100):
        gateway, secret = gateway_with_secret(site=site)
        hook = HeartbeatHook(gateway, secret)
        if sensors == "known":
            beat(hook, heartbeat_of(size))
            clock.shift(SAMPLE_EVERY)  # their battery samples are due again
        counts[size] = queries_of(hook, heartbeat_of(size))

    assert counts[1] == counts[100]
    # Gateway with secrets, savepoint pair, the gateway's update, its sensors, their update or
    # the new ones' insert, recent battery samples, their insert, connectivity; a gateway not
    # recorded online (a new one here) is recorded online at once: its row locked, the state
    # and its event written, and its open silence work looked up.
    assert counts[100] <= 15


# --- recovery ---------------------------------------------------------------------------


@pytest.fixture
def heard(monkeypatch):
    """Calls of fleet.connectivity.gateway_heard, which records the gateway online again."""
    calls = []

    def gateway_heard(*, gateway, now):
        calls.append((gateway.pk, now))
        Gateway.objects.filter(pk=gateway.pk).update(connectivity=Connectivity.ONLINE)

    monkeypatch.setattr(ingest_module, "gateway_heard", gateway_heard)
    return calls


@pytest.mark.parametrize(
    "recorded", [Connectivity.LATE, Connectivity.OFFLINE, Connectivity.NEVER_SEEN]
)
def test_a_gateway_not_recorded_online_is_reported_heard_and_the_answer_says_its_new_state(
    heartbeat_hook, clock, heard, recorded
):
    Gateway.objects.filter(pk=heartbeat_hook.gateway.pk).update(connectivity=recorded)

    answer = beat(heartbeat_hook, {})

    assert heard == [(heartbeat_hook.gateway.pk, NOW)]
    assert answer["connectivity"] == Connectivity.ONLINE


def test_a_gateway_recorded_online_is_not_reported_again(heartbeat_hook, clock, heard):
    Gateway.objects.filter(pk=heartbeat_hook.gateway.pk).update(connectivity=Connectivity.ONLINE)

    answer = beat(heartbeat_hook, {})

    assert heard == []
    assert answer["connectivity"] == Connectivity.ONLINE


def test_the_recovery_sees_the_heartbeat_already_stored(heartbeat_hook, clock, monkeypatch):
    seen = []

    def gateway_heard(*, gateway, now):
        seen.append(Gateway.objects.get(pk=gateway.pk).last_heartbeat_at)

    monkeypatch.setattr(ingest_module, "gateway_heard", gateway_heard)

    beat(heartbeat_hook, {})

    assert seen == [NOW]


def test_a_heartbeat_links_no_asset_and_touches_no_other_site(heartbeat_hook, clock, other_site):
    AssetFactory(site=other_site, tag="vib-01")

    beat(heartbeat_hook, {"sensors": [{"id": "vib-01"}]})

    assert sensor(heartbeat_hook, "vib-01").asset is None
