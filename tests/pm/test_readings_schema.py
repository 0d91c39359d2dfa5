"""The readings webhook body schema, through its public validator `parse_body`."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pm.readings_schema import SchemaError, parse_body
from tests.fuzzing import fuzz_settings

READING = {
    "reading_id": "r-1",
    "asset": "P-101",
    "meter": "hours",
    "value": 12.5,
    "observed_at": "2025-05-01T12:00:00Z",
}
MAGNITUDE = "Must be less than 10^13 in magnitude."


def body(*readings) -> bytes:
    return json.dumps({"readings": list(readings)}).encode()


def with_value(literal: str) -> bytes:
    """A body whose value is written as `literal`, which json.dumps would never write."""
    return body(READING).replace(b"12.5", literal.encode())


def errors_of(raw: bytes) -> list[dict]:
    with pytest.raises(SchemaError) as refused:
        parse_body(raw)
    return refused.value.errors


def test_a_reading_is_read_with_the_column_scale_and_utc():
    [reading] = parse_body(body(READING | {"observed_at": "2025-05-01T14:00:00+02:00"}))

    assert (reading.reading_id, reading.asset_tag, reading.meter_code) == ("r-1", "P-101", "hours")
    assert reading.value == Decimal("12.500")
    assert reading.observed_at == datetime(2025, 5, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("literal", "stored"),
    [
        ("7", Decimal("7.000")),
        ("-0", Decimal("0.000")),
        ("0.0005", Decimal("0.000")),  # rounded half even to the column's scale
        ("0.0015", Decimal("0.002")),
        ("1e-400", Decimal("0.000")),
        ("9999999999999", Decimal("9999999999999.000")),
        ("-9999999999999.5", Decimal("-9999999999999.500")),
    ],
)
def test_values_the_column_holds_are_accepted(literal, stored):
    [reading] = parse_body(with_value(literal))
    assert reading.value == stored


@pytest.mark.parametrize(
    ("literal", "message"),
    [
        ("10000000000000", MAGNITUDE),
        ("-10000000000000.0", MAGNITUDE),
        ("9999999999999.9999", MAGNITUDE),  # rounds up to 10^13 at the column's scale
        ("1e27", MAGNITUDE),
        ("1e308", MAGNITUDE),
        ("-1e30", MAGNITUDE),
        ("1" + "0" * 40, MAGNITUDE),
        # Beyond any double: these once reached decimal.InvalidOperation, a 500.
        ("1" + "0" * 400, "Must be a finite number."),
        ("-1" + "0" * 400, "Must be a finite number."),
        ("1e999999", "Must be a finite number."),
        ("-1e999999", "Must be a finite number."),
    ],
)
def test_a_huge_value_is_refused_naming_the_value(literal, message):
    assert errors_of(with_value(literal)) == [{"index": 0, "field": "value", "message": message}]


@given(
    value=st.one_of(
        st.integers(min_value=-(10**400), max_value=10**400),
        st.floats(allow_nan=False, allow_infinity=False),
    )
)
@fuzz_settings(300)
def test_any_json_number_is_a_reading_or_a_refusal_naming_the_value(value):
    try:
        [reading] = parse_body(body(READING | {"value": value}))
    except SchemaError as refused:
        assert [(e["index"], e["field"]) for e in refused.errors] == [(0, "value")]
    else:
        assert abs(reading.value) < 10**13
        assert reading.value == reading.value.quantize(Decimal("0.001"))


@pytest.mark.parametrize("value", ["12", True, None, [1], {"v": 1}])
def test_a_value_that_is_not_a_number_is_refused(value):
    assert [e["field"] for e in errors_of(body(READING | {"value": value}))] == ["value"]


@pytest.mark.parametrize("field", ["reading_id", "asset", "meter", "value", "observed_at"])
def test_each_missing_field_is_named(field):
    reading = {key: value for key, value in READING.items() if key != field}
    assert errors_of(body(reading)) == [
        {"index": 0, "field": field, "message": "This field is required."}
    ]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("reading_id", "", "Must be a string of 1 to 128 characters."),
        ("reading_id", "r" * 129, "Must be a string of 1 to 128 characters."),
        ("asset", 5, "Must be a string of 1 to 64 characters."),
        ("asset", "P\x00", "Contains control characters."),
        ("reading_id", "r\n1", "Contains control characters."),
        ("meter", "hours total", "Must be a meter code (1 to 50 of a-z, 0-9, -, _)."),
        (
            "observed_at",
            "2025-05-01T12:00:00",
            "Must be an RFC 3339 timestamp with an offset, e.g. 2025-05-01T12:00:00Z.",
        ),
    ],
)
def test_each_rule_names_its_field(field, value, message):
    assert errors_of(body(READING | {field: value})) == [
        {"index": 0, "field": field, "message": message}
    ]


def test_a_lone_surrogate_in_an_identifier_is_refused_naming_the_field():
    raw = body(READING).replace(b'"r-1"', b'"r\\ud800"')
    assert errors_of(raw) == [
        {"index": 0, "field": "reading_id", "message": "Contains control characters."}
    ]


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        (b"[]", None, 'The body must be {"readings": [...]}.'),
        (b'{"readings": [], "x": 1}', None, 'The body must be {"readings": [...]}.'),
        (b'{"reading": []}', None, 'The body must be {"readings": [...]}.'),
        (b'{"readings": []}', "readings", "Must be a non-empty list of readings."),
        (b'{"readings": {}}', "readings", "Must be a non-empty list of readings."),
    ],
)
def test_a_body_of_the_wrong_shape_is_refused_whole(raw, field, message):
    assert errors_of(raw) == [{"index": None, "field": field, "message": message}]


def test_at_most_1000_readings_per_request():
    assert len(parse_body(body(*[READING] * 1000))) == 1000
    assert errors_of(body(*[READING] * 1001)) == [
        {"index": None, "field": "readings", "message": "At most 1000 per request."}
    ]


def test_every_problem_is_listed_with_its_index():
    assert errors_of(body(READING, 5, READING | {"meter": "", "colour": "red"})) == [
        {"index": 1, "field": None, "message": "Each reading must be a JSON object."},
        {"index": 2, "field": "colour", "message": "Unknown field."},
        {
            "index": 2,
            "field": "meter",
            "message": "Must be a meter code (1 to 50 of a-z, 0-9, -, _).",
        },
    ]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "9" * 5000])
def test_what_json_cannot_hold_is_malformed(literal):
    [error] = errors_of(with_value(literal))
    assert (error["index"], error["field"]) == (None, None)
    assert error["message"].startswith("Malformed JSON")
