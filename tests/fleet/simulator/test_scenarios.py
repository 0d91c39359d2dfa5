"""What each scenario sends, tick by tick: deterministic for a seed and a clock."""

from datetime import UTC, datetime, timedelta

import pytest

from fleet.simulator import Plan, SensorSpec, parse_plan, parse_sensors

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
SENSORS = [
    SensorSpec("vib-01", "P-101", "vibration", "hours", 1200.0),
    SensorSpec("temp-02", "P-102", "temperature"),
    SensorSpec("vib-03", "P-103", "vibration"),
]


def run(plan_text: str, ticks: int, *, seed=7, interval=60.0, sensors=SENSORS):
    """The requests of each tick, as (kind, body) lists."""
    plan = Plan(phases=parse_plan(plan_text), sensors=sensors, interval=interval, seed=seed)
    return [
        [(r.kind, r.body) for r in plan.requests(tick, T0 + timedelta(seconds=interval * tick))]
        for tick in range(ticks)
    ]


def alerts_of(ticks):
    return [a for tick in ticks for kind, body in tick if kind == "alerts" for a in body["alerts"]]


def test_the_same_seed_and_clock_send_the_same_requests():
    assert run("steady:2,degrading:6,storm:2", 10) == run("steady:2,degrading:6,storm:2", 10)
    assert run("steady", 3, seed=1) != run("steady", 3, seed=2)


def test_steady_sends_a_heartbeat_and_readings_every_tick_and_no_alert():
    ticks = run("steady", 4)
    assert all([kind for kind, _ in tick] == ["heartbeat", "readings"] for tick in ticks)
    heartbeat = ticks[0][0][1]
    assert heartbeat["firmware"] == "2.4.1"
    assert {s["id"] for s in heartbeat["sensors"]} == {"vib-01", "temp-02", "vib-03"}
    assert all(datetime.fromisoformat(s["last_sample_at"]).tzinfo for s in heartbeat["sensors"])
    uptimes = [tick[0][1]["uptime_seconds"] for tick in ticks]
    assert uptimes == sorted(uptimes) and uptimes[1] - uptimes[0] == 60


def test_readings_continue_the_meter_and_never_go_back():
    ticks = run("steady", 3)
    readings = [tick[1][1]["readings"] for tick in ticks]
    assert all(
        len(r) == 1 and r[0]["asset"] == "P-101" and r[0]["meter"] == "hours" for r in readings
    )
    values = [r[0]["value"] for r in readings]
    assert values[0] > 1200 and values == sorted(values)
    assert len({r[0]["reading_id"] for r in readings}) == 3


def test_degrading_raises_warning_then_major_then_critical_on_the_first_sensors_asset():
    ticks = run("degrading", 8)
    alerts = alerts_of(ticks)
    assert [a["severity"] for a in alerts] == ["warning", "major", "critical"]
    assert {a["asset"] for a in alerts} == {"P-101"}
    assert {a["condition"] for a in alerts} == {"vibration.high"}
    assert all(a["value"] >= a["threshold"] for a in alerts)
    assert len({a["alert_id"] for a in alerts}) == 3


def test_degrading_drains_the_batteries():
    ticks = run("degrading", 6)
    first, last = ticks[0][0][1], ticks[-1][0][1]
    assert last["battery_percent"] < first["battery_percent"]
    for before, after in zip(first["sensors"], last["sensors"], strict=True):
        assert after["battery_percent"] < before["battery_percent"]


def test_a_storm_bursts_over_many_assets_and_repeats_its_alert_ids():
    sensors = [SensorSpec(f"vib-{n}", f"P-{n}") for n in range(10)]
    ticks = run("storm", 2, sensors=sensors)
    first, second = (next(b for k, b in tick if k == "alerts")["alerts"] for tick in ticks)
    assert len({a["asset"] for a in first}) == 10
    ids = [a["alert_id"] for a in first]
    assert len(ids) == 2 * len(set(ids))  # each alert twice in its burst
    assert second == first  # redelivered as is on the next tick
    assert {a["severity"] for a in first} <= {"major", "critical"}


def test_silent_sends_nothing():
    assert run("silent", 5) == [[]] * 5


def test_phases_follow_each_other_and_the_plan_ends():
    plan = Plan(phases=parse_plan("steady:2,degrading:1,silent:2"), sensors=SENSORS, interval=60)
    assert [plan.scenario_at(t) for t in range(6)] == [
        "steady",
        "steady",
        "degrading",
        "silent",
        "silent",
        None,
    ]
    assert plan.total_ticks == 5
    assert (
        Plan(phases=parse_plan("steady:2,silent"), sensors=SENSORS, interval=1).total_ticks is None
    )


@pytest.mark.parametrize(
    "text", ["", "noisy", "steady:0", "steady:x", "steady,degrading:2", "silent:-1"]
)
def test_a_bad_plan_is_refused_with_a_reason(text):
    with pytest.raises(ValueError):
        parse_plan(text)


def test_sensors_are_parsed_from_the_command_line():
    assert parse_sensors("vib-01=P-101:hours, temp-02=P-102") == [
        SensorSpec("vib-01", "P-101", "vibration", "hours"),
        SensorSpec("temp-02", "P-102", "temperature", ""),
    ]
    for bad in ("vib-01", "=P-1", "a=P-1,a=P-2", "x="):
        with pytest.raises(ValueError):
            parse_sensors(bad)


def test_the_degrading_sensor_can_be_chosen():
    plan = Plan(phases=parse_plan("degrading:6"), sensors=SENSORS, interval=60, degrade="temp-02")
    alerts = [
        a
        for tick in range(6)
        for r in plan.requests(tick, T0 + timedelta(minutes=tick))
        if r.kind == "alerts"
        for a in r.body["alerts"]
    ]
    assert {(a["asset"], a["condition"], a["unit"]) for a in alerts} == {
        ("P-102", "bearing.temp.high", "°C")
    }
    with pytest.raises(ValueError, match="No sensor"):
        Plan(phases=parse_plan("degrading"), sensors=SENSORS, interval=60, degrade="nope")


def test_the_command_side_simulator_degrades_the_sensor_it_is_told_to():
    from fleet.simulator import simulator_for

    simulator = simulator_for(
        url="http://127.0.0.1:1",
        gateway_id="g",
        secret="whsec_" + "A" * 43 + "=",
        sensors=SENSORS,
        scenario="steady:1,degrading:6,silent",
        interval=20,
        log=print,
        degrade="temp-02",
    )
    assert simulator.plan.degrading.code == "temp-02"
    assert simulator.plan.total_ticks is None
    with pytest.raises(ValueError, match="interval"):
        simulator_for(
            url="http://x",
            gateway_id="g",
            secret="whsec_x",
            sensors=SENSORS,
            scenario="steady",
            interval=0,
            log=print,
        )
