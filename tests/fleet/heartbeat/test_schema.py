"""The heartbeat body: every field optional, each rule refused with the field named (a sensor's
problem with its place in `sensors` as the index), in the pinned error shape."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from fleet.schema import MAX_SENSORS, UNSET, SchemaError, parse_body
from gateways.models import Gateway, Sensor

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
FULL = {
    "firmware": "2.4.1",
    "uptime_seconds": 86400,
    "signal_dbm": -71,
    "battery_percent": 88,
    "sensors": [
        {
            "id": "vib-01",
            "last_sample_at": "2026-11-30T07:59:12Z",
            "battery_percent": 61,
            "signal_dbm": -80,
        }
    ],
}


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


def errors_of(payload) -> list[dict]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    with pytest.raises(SchemaError) as refused:
        parse_body(body)
    return refused.value.errors


def sensor(**fields) -> dict:
    return {"id": "vib-01", **fields}


def test_the_documented_example_is_accepted():
    heartbeat = parse_body(json.dumps(FULL).encode())

    assert (heartbeat.firmware, heartbeat.uptime_seconds) == ("2.4.1", 86400)
    assert (heartbeat.signal_dbm, heartbeat.battery_percent) == (-71, 88)
    [report] = heartbeat.sensors
    assert report.id == "vib-01"
    assert report.last_sample_at == datetime(2026, 11, 30, 7, 59, 12, tzinfo=UTC)
    assert (report.battery_percent, report.signal_dbm) == (61, -80)


def test_an_empty_object_is_a_heartbeat_that_says_nothing_but_that_it_is_alive():
    heartbeat = parse_body(b"{}")

    assert heartbeat.sensors == []
    assert heartbeat.firmware is heartbeat.uptime_seconds is heartbeat.battery_percent is UNSET


def test_null_leaves_a_field_as_it_is_except_a_battery_where_it_means_none():
    heartbeat = parse_body(
        b'{"firmware": null, "uptime_seconds": null, "signal_dbm": null,'
        b' "battery_percent": null, "sensors": null}'
    )

    assert heartbeat.firmware is heartbeat.uptime_seconds is heartbeat.signal_dbm is UNSET
    assert heartbeat.battery_percent is None
    assert heartbeat.sensors == []
    [report] = parse_body(
        b'{"sensors": [{"id": "a", "last_sample_at": null, "battery_percent": null,'
        b' "signal_dbm": null}]}'
    ).sensors
    assert report.last_sample_at is report.signal_dbm is UNSET
    assert report.battery_percent is None


INTEGER = "Must be an integer from {} to {}."


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("firmware", "", "Must be a string of 1 to 64 characters."),
        ("firmware", "v" * 65, "Must be a string of 1 to 64 characters."),
        ("firmware", 2, "Must be a string of 1 to 64 characters."),
        ("firmware", "2.4\n", "Contains control characters."),
        ("firmware", "nul\x00", "Contains control characters."),
        ("uptime_seconds", -1, INTEGER.format(0, 10**10 - 1)),
        ("uptime_seconds", 10**10, INTEGER.format(0, 10**10 - 1)),
        ("uptime_seconds", 1.5, INTEGER.format(0, 10**10 - 1)),
        ("uptime_seconds", "10", INTEGER.format(0, 10**10 - 1)),
        ("uptime_seconds", True, INTEGER.format(0, 10**10 - 1)),
        ("signal_dbm", -201, INTEGER.format(-200, 50)),
        ("signal_dbm", 51, INTEGER.format(-200, 50)),
        ("signal_dbm", -71.0, INTEGER.format(-200, 50)),
        ("battery_percent", 101, INTEGER.format(0, 100)),
        ("battery_percent", -1, INTEGER.format(0, 100)),
        ("battery_percent", 50.5, INTEGER.format(0, 100)),
        ("battery_percent", [50], INTEGER.format(0, 100)),
        ("sensors", {}, "Must be a list of sensor objects."),
        ("sensors", "vib-01", "Must be a list of sensor objects."),
        ("sensors", [sensor()] * (MAX_SENSORS + 1), "At most 500 sensors per heartbeat."),
        ("surprise", 1, "Unknown field."),
    ],
)
def test_a_gateway_field_that_breaks_its_rule_is_named(field, value, message):
    assert errors_of({field: value}) == [{"index": None, "field": field, "message": message}]


@pytest.mark.parametrize("value", [0, 10**10 - 1])
def test_uptime_takes_its_whole_range(value):
    assert parse_body(json.dumps({"uptime_seconds": value}).encode()).uptime_seconds == value


@pytest.mark.parametrize(
    ("field", "value"),
    [("signal_dbm", -200), ("signal_dbm", 50), ("battery_percent", 0), ("battery_percent", 100)],
)
def test_the_ranges_include_their_ends(field, value):
    assert getattr(parse_body(json.dumps({field: value}).encode()), field) == value


ID = "Must be 1 to 64 characters of A-Z, a-z, 0-9, '_', '.', ':', '-'."
WHEN = (
    "Must be an RFC 3339 timestamp with an offset, "
    "e.g. 2026-11-30T07:59:12Z or 2026-11-30T08:59:12+01:00."
)


@pytest.mark.parametrize(
    ("report", "field", "message"),
    [
        ({"battery_percent": 61}, "id", "This field is required."),
        (sensor(id=None), "id", "This field is required."),
        (sensor(id=""), "id", ID),
        (sensor(id="v" * 65), "id", ID),
        (sensor(id="vib 01"), "id", ID),
        (sensor(id="vib/01"), "id", ID),
        (sensor(id=7), "id", ID),
        (sensor(last_sample_at="2026-11-30T07:59:12"), "last_sample_at", WHEN),
        (sensor(last_sample_at="yesterday"), "last_sample_at", WHEN),
        (sensor(last_sample_at="2026-02-30T07:59:12Z"), "last_sample_at", WHEN),
        (sensor(last_sample_at=1764489552), "last_sample_at", WHEN),
        (sensor(battery_percent=101), "battery_percent", INTEGER.format(0, 100)),
        (sensor(battery_percent=True), "battery_percent", INTEGER.format(0, 100)),
        (sensor(signal_dbm=-300), "signal_dbm", INTEGER.format(-200, 50)),
        (sensor(signal_dbm="strong"), "signal_dbm", INTEGER.format(-200, 50)),
        (sensor(asset="P-101"), "asset", "Unknown field."),
    ],
)
def test_a_sensor_field_that_breaks_its_rule_is_named_with_the_sensors_index(
    report, field, message
):
    payload = {"sensors": [sensor(id="s0"), sensor(id="s1"), sensor(id="s2"), report]}

    assert errors_of(payload) == [{"index": 3, "field": field, "message": message}]


def test_a_sensor_that_is_not_an_object_is_named_by_its_index():
    assert errors_of({"sensors": [sensor(), "vib-02"]}) == [
        {"index": 1, "field": None, "message": "Each sensor must be a JSON object."}
    ]


def test_valid_characters_of_a_sensor_id_are_accepted():
    [report] = parse_body(json.dumps({"sensors": [sensor(id="Ab_9.z:x-1")]}).encode()).sensors
    assert report.id == "Ab_9.z:x-1"


def test_every_problem_of_every_sensor_is_listed_in_order():
    payload = {
        "sensors": [
            sensor(id="a", battery_percent=101, zeta=1),
            sensor(id="b"),
            sensor(id="c", signal_dbm=99, last_sample_at="no"),
        ]
    }

    assert errors_of(payload) == [
        {"index": 0, "field": "zeta", "message": "Unknown field."},
        {"index": 0, "field": "battery_percent", "message": INTEGER.format(0, 100)},
        {"index": 2, "field": "last_sample_at", "message": WHEN},
        {"index": 2, "field": "signal_dbm", "message": INTEGER.format(-200, 50)},
    ]


def test_a_duplicate_sensor_id_is_refused_naming_each_repeat_and_the_first():
    payload = {"sensors": [sensor(id="a"), sensor(id="b"), sensor(id="a"), sensor(id="a")]}

    assert errors_of(payload) == [
        {"index": 2, "field": "id", "message": "Duplicate sensor id (first at index 0)."},
        {"index": 3, "field": "id", "message": "Duplicate sensor id (first at index 0)."},
    ]


def test_a_sample_up_to_five_minutes_ahead_is_accepted_and_later_ones_refused():
    ahead = NOW + timedelta(minutes=5)
    [report] = parse_body(
        json.dumps({"sensors": [sensor(last_sample_at=ahead.isoformat())]}).encode()
    ).sensors
    assert report.last_sample_at == ahead

    too_far = (ahead + timedelta(seconds=1)).isoformat()
    assert errors_of({"sensors": [sensor(last_sample_at=too_far)]}) == [
        {
            "index": 0,
            "field": "last_sample_at",
            "message": "Must not be more than 5 minutes in the future.",
        }
    ]


@pytest.mark.parametrize("unset", ["0001-01-01T00:00:00Z", "1970-01-01T00:00:00Z"])
def test_a_sample_time_from_an_unset_clock_is_refused(unset):
    assert errors_of({"sensors": [sensor(last_sample_at=unset)]}) == [
        {
            "index": 0,
            "field": "last_sample_at",
            "message": "Must not be before 2000-01-01 (is the sensor's clock set?).",
        }
    ]
    earliest = parse_body(
        json.dumps({"sensors": [sensor(last_sample_at="2000-01-01T00:00:00Z")]}).encode()
    )
    assert earliest.sensors[0].last_sample_at == datetime(2000, 1, 1, tzinfo=UTC)


def test_a_sample_time_with_an_offset_is_stored_in_utc():
    [report] = parse_body(
        json.dumps({"sensors": [sensor(last_sample_at="2026-11-30T08:59:12.5+01:00")]}).encode()
    ).sensors
    assert report.last_sample_at == datetime(2026, 11, 30, 7, 59, 12, 500000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[]", "The body must be a JSON object (it may be empty: {})."),
        (b'"alive"', "The body must be a JSON object (it may be empty: {})."),
        (b"null", "The body must be a JSON object (it may be empty: {})."),
        (b"", None),
        (b"{", None),
        (b'{"uptime_seconds": NaN}', None),
        (b"[" * 100_000, "JSON is nested too deeply."),
    ],
)
def test_a_body_that_is_no_json_object_is_refused_whole(body, message):
    [error] = errors_of(body)
    assert (error["index"], error["field"]) == (None, None)
    if message:
        assert error["message"] == message


@pytest.mark.django_db
def test_over_http_a_schema_error_answers_400_and_stores_nothing(heartbeat_hook):
    response = heartbeat_hook.post(
        {"firmware": "2.4.1", "sensors": [sensor(id="a"), sensor(id="b", battery_percent=101)]}
    )

    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"index": 1, "field": "battery_percent", "message": INTEGER.format(0, 100)}]
    }
    gateway = Gateway.objects.get(pk=heartbeat_hook.gateway.pk)
    assert (gateway.firmware, gateway.last_heartbeat_at, gateway.last_seen_at) == ("", None, None)
    assert not Sensor.objects.exists()
