"""The webhook body schema, through its public validator `parse_body`: every rule and limit."""

import hashlib
import json
from datetime import UTC, datetime

import pytest

from alerts.schema import SchemaError, parse_body

MINIMAL = {
    "alert_id": "a-1",
    "asset": "P-101",
    "condition": "bearing_temp_high",
    "severity": "major",
    "observed_at": "2025-05-01T12:00:00Z",
}


def body(value) -> bytes:
    return json.dumps(value).encode()


def one(**changes) -> bytes:
    alert = MINIMAL | changes
    return body({k: v for k, v in alert.items() if v is not ...})


def errors_of(raw: bytes) -> list[dict]:
    with pytest.raises(SchemaError) as refused:
        parse_body(raw)
    return refused.value.errors


def fields_refused(raw: bytes) -> set:
    return {e["field"] for e in errors_of(raw)}


# --------------------------------------------------------------------------- accepted


def test_a_minimal_alert_with_only_the_required_fields_is_accepted_with_defaults():
    [alert] = parse_body(one())
    assert alert.alert_id == "a-1"
    assert alert.asset_tag == "P-101"
    assert alert.condition == "bearing_temp_high"
    assert alert.severity == "major"
    assert alert.state == "active"
    assert alert.observed_at == datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
    assert alert.value is None and alert.threshold is None
    assert alert.unit == "" and alert.message == ""
    assert alert.attributes == {}
    assert len(alert.content_hash) == 64


def test_a_full_alert_keeps_every_field():
    [alert] = parse_body(
        one(
            state="cleared",
            value=81.5,
            unit="°C",
            threshold=80,
            message="Lager überhitzt",
            attributes={"line": "L1", "n": 2},
        )
    )
    assert (alert.state, alert.value, alert.unit, alert.threshold) == ("cleared", 81.5, "°C", 80.0)
    assert alert.message == "Lager überhitzt"
    assert alert.attributes == {"line": "L1", "n": 2}
    assert isinstance(alert.threshold, float)


@pytest.mark.parametrize("severity", ["critical", "major", "minor", "warning"])
def test_each_severity_is_accepted(severity):
    [alert] = parse_body(one(severity=severity))
    assert alert.severity == severity


def test_a_batch_gives_its_alerts_in_order():
    alerts = parse_body(
        body({"alerts": [MINIMAL | {"alert_id": "a"}, MINIMAL | {"alert_id": "b"}]})
    )
    assert [a.alert_id for a in alerts] == ["a", "b"]


def test_a_batch_of_exactly_1000_is_accepted_and_1001_is_refused():
    batch = [MINIMAL | {"alert_id": f"a-{i}"} for i in range(1000)]
    assert len(parse_body(body({"alerts": batch}))) == 1000
    refused = errors_of(body({"alerts": [*batch, MINIMAL]}))
    assert refused == [
        {"index": None, "field": "alerts", "message": "At most 1000 alerts per request."}
    ]


# --------------------------------------------------------------------------- required fields


@pytest.mark.parametrize("field", ["alert_id", "asset", "condition", "severity", "observed_at"])
def test_each_missing_required_field_is_named(field):
    assert errors_of(one(**{field: ...})) == [
        {"index": 0, "field": field, "message": "This field is required."}
    ]


@pytest.mark.parametrize("field", ["alert_id", "asset", "condition", "severity", "observed_at"])
def test_a_required_field_given_as_null_is_missing(field):
    assert fields_refused(one(**{field: None})) == {field}


# --------------------------------------------------------------------------- lengths


@pytest.mark.parametrize(
    ("field", "longest"), [("alert_id", 128), ("asset", 64), ("condition", 64)]
)
def test_required_texts_of_exactly_1_and_the_maximum_characters_are_accepted(field, longest):
    for length in (1, longest):
        [alert] = parse_body(one(**{field: "a" * length}))
        stored = {
            "alert_id": alert.alert_id,
            "asset": alert.asset_tag,
            "condition": alert.condition,
        }
        assert stored[field] == "a" * length


@pytest.mark.parametrize(
    ("field", "longest"), [("alert_id", 128), ("asset", 64), ("condition", 64)]
)
def test_required_texts_of_0_or_one_past_the_maximum_are_refused(field, longest):
    assert fields_refused(one(**{field: ""})) == {field}
    assert fields_refused(one(**{field: "a" * (longest + 1)})) == {field}


def test_the_length_message_names_the_limits():
    assert errors_of(one(alert_id="a" * 129)) == [
        {"index": 0, "field": "alert_id", "message": "Must be 1 to 128 characters long."}
    ]
    assert errors_of(one(asset="")) == [
        {"index": 0, "field": "asset", "message": "Must be 1 to 64 characters long."}
    ]


@pytest.mark.parametrize(("field", "longest"), [("unit", 32), ("message", 2000)])
def test_optional_texts_may_be_empty_or_the_maximum_and_not_longer(field, longest):
    assert getattr(parse_body(one(**{field: ""}))[0], field) == ""
    assert getattr(parse_body(one(**{field: "x" * longest}))[0], field) == "x" * longest
    assert errors_of(one(**{field: "x" * (longest + 1)})) == [
        {"index": 0, "field": field, "message": f"Must be 0 to {longest} characters long."}
    ]


def test_lengths_count_characters_not_bytes():
    [alert] = parse_body(one(alert_id="ü" * 128))
    assert alert.alert_id == "ü" * 128


# --------------------------------------------------------------------------- values


@pytest.mark.parametrize("condition", ["Bearing", "bearing temp", "bearing/temp", "ü", 5, ["x"]])
def test_a_condition_outside_its_alphabet_is_refused(condition):
    assert errors_of(one(condition=condition)) == [
        {
            "index": 0,
            "field": "condition",
            "message": "Must be 1 to 64 characters of a-z, 0-9, '_', '.', '-'.",
        }
    ]


def test_a_condition_of_every_allowed_character_is_accepted():
    [alert] = parse_body(one(condition="a-z.0_9"))
    assert alert.condition == "a-z.0_9"


@pytest.mark.parametrize("severity", ["fatal", "MAJOR", "", 1])
def test_an_unknown_severity_is_refused(severity):
    assert errors_of(one(severity=severity)) == [
        {
            "index": 0,
            "field": "severity",
            "message": "Must be one of critical, major, minor, warning.",
        }
    ]


@pytest.mark.parametrize("state", ["open", "ACTIVE", 1, True])
def test_an_unknown_state_is_refused(state):
    assert errors_of(one(state=state)) == [
        {"index": 0, "field": "state", "message": "Must be active or cleared."}
    ]


@pytest.mark.parametrize("field", ["alert_id", "asset", "unit", "message"])
def test_texts_must_be_strings(field):
    assert errors_of(one(**{field: 12})) == [
        {"index": 0, "field": field, "message": "Must be a string."}
    ]


@pytest.mark.parametrize("field", ["value", "threshold"])
@pytest.mark.parametrize("number", [True, "1", [1], {"v": 1}])
def test_numbers_must_be_numbers(field, number):
    assert errors_of(one(**{field: number})) == [
        {"index": 0, "field": field, "message": "Must be a number."}
    ]


@pytest.mark.parametrize("field", ["value", "threshold"])
def test_numbers_out_of_double_range_are_refused(field):
    raw = one().replace(b"}", f', "{field}": 1{"0" * 400}}}'.encode())
    assert errors_of(raw) == [
        {"index": 0, "field": field, "message": "Must be a finite number within double precision."}
    ]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_json_constants_are_malformed(constant):
    raw = one().replace(b"}", f', "value": {constant}}}'.encode())
    [error] = errors_of(raw)
    assert (error["index"], error["field"]) == (None, None)
    assert error["message"].startswith("Malformed JSON")


def test_an_integer_value_is_kept_as_a_float():
    [alert] = parse_body(one(value=7, threshold=-3))
    assert (alert.value, alert.threshold) == (7.0, -3.0)


# ----------------------------------------------------------------- text PostgreSQL refuses


@pytest.mark.parametrize("field", ["alert_id", "asset", "unit", "message"])
def test_a_nul_character_in_a_text_is_refused(field):
    assert errors_of(one(**{field: "a\x00b"})) == [
        {"index": 0, "field": field, "message": "Contains a NUL character or invalid Unicode."}
    ]


@pytest.mark.parametrize("field", ["alert_id", "message"])
def test_a_lone_surrogate_in_a_text_is_refused(field):
    # The field is given twice; JSON objects keep the last one.
    raw = one().replace(b"}", f', "{field}": "a\\ud800"}}'.encode())
    assert fields_refused(raw) == {field}


def test_a_lone_surrogate_in_attributes_is_refused():
    raw = one().replace(b"}", b', "attributes": {"note": "x\\udc00y"}}')
    assert fields_refused(raw) == {"attributes"}


def test_a_lone_surrogate_in_an_attribute_name_is_refused():
    raw = one().replace(b"}", b', "attributes": {"\\ud83d": 1}}')
    assert fields_refused(raw) == {"attributes"}


def test_a_paired_surrogate_in_attributes_is_an_ordinary_character():
    raw = one().replace(b"}", b', "attributes": {"icon": "\\ud83d\\ude00"}}')
    [alert] = parse_body(raw)
    assert alert.attributes == {"icon": "\U0001f600"}


@pytest.mark.parametrize("attributes", [{"k": "a\x00"}, {"a\x00": 1}])
def test_a_nul_character_in_attributes_is_refused(attributes):
    assert fields_refused(one(attributes=attributes)) == {"attributes"}


@pytest.mark.parametrize("attributes", [[1], "x", 3])
def test_attributes_must_be_an_object(attributes):
    assert errors_of(one(attributes=attributes)) == [
        {"index": 0, "field": "attributes", "message": "Must be a JSON object."}
    ]


def test_attributes_of_exactly_16_kib_are_accepted_and_one_byte_more_is_refused():
    # Serialised compactly: {"k":"<text>"} is 8 bytes plus the text.
    exact = {"k": "x" * (16 * 1024 - 8)}
    assert parse_body(one(attributes=exact))[0].attributes == exact
    over = {"k": "x" * (16 * 1024 - 7)}
    assert errors_of(one(attributes=over)) == [
        {"index": 0, "field": "attributes", "message": "Must be at most 16 KiB when serialised."}
    ]


def test_attribute_size_counts_utf8_bytes():
    # "ü" is two bytes: 8 + 2 * 8188 = 16384 exactly; one more character is over.
    assert parse_body(one(attributes={"k": "ü" * 8188}))
    assert fields_refused(one(attributes={"k": "ü" * 8189})) == {"attributes"}


# --------------------------------------------------------------------------- timestamps


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2025-05-01T14:00:00+02:00", datetime(2025, 5, 1, 12, 0, tzinfo=UTC)),
        ("2025-05-01t12:00:00z", datetime(2025, 5, 1, 12, 0, tzinfo=UTC)),
        ("2025-05-01 07:30:00-04:30", datetime(2025, 5, 1, 12, 0, tzinfo=UTC)),
        ("2025-05-01T12:00:00.123456789Z", datetime(2025, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)),
        ("2025-05-01T12:00:00.5+00:00", datetime(2025, 5, 1, 12, 0, 0, 500000, tzinfo=UTC)),
        ("2025-01-01T00:30:00+01:00", datetime(2024, 12, 31, 23, 30, tzinfo=UTC)),
    ],
)
def test_timestamps_with_an_offset_are_read_as_utc(text, utc):
    [alert] = parse_body(one(observed_at=text))
    assert alert.observed_at == utc
    assert alert.observed_at.utcoffset().total_seconds() == 0


@pytest.mark.parametrize(
    "text",
    [
        "2025-05-01T12:00:00",  # no offset
        "2025-05-01",
        "2025-02-30T12:00:00Z",  # no such day
        "2025-05-01T24:00:00Z",
        "2025-05-01T12:00:00.1234567890Z",  # ten fraction digits
        "2025-05-01T12:00:00Z" + " " * 21,  # over 40 characters
        "0000-01-01T00:00:00Z",
        "9999-12-31T23:59:59-23:59",  # past the largest date once in UTC
        1714564800,
        "١٢٣٤-05-01T12:00:00Z",
    ],
)
def test_other_timestamps_are_refused(text):
    assert fields_refused(one(observed_at=text)) == {"observed_at"}


# --------------------------------------------------------------------------- body shape


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"[]", 'The body must be an alert object or {"alerts": [...]}.'),
        (b'"x"', 'The body must be an alert object or {"alerts": [...]}.'),
        (b'{"alerts": {}}', "Must be a list of alert objects."),
        (b'{"alerts": []}', "Must hold at least one alert."),
    ],
)
def test_a_body_of_the_wrong_shape_is_refused(raw, message):
    [error] = errors_of(raw)
    assert error["message"] == message


def test_fields_next_to_alerts_are_refused_by_name():
    assert errors_of(body({"alerts": [MINIMAL], "b": 1, "a": 2})) == [
        {"index": None, "field": "a", "message": "Unknown field next to 'alerts'."},
        {"index": None, "field": "b", "message": "Unknown field next to 'alerts'."},
    ]


def test_an_unknown_field_in_an_alert_is_refused_by_name():
    assert errors_of(one(colour="red")) == [
        {"index": 0, "field": "colour", "message": "Unknown field."}
    ]


def test_a_batch_item_that_is_not_an_object_is_refused_with_its_index():
    assert errors_of(body({"alerts": [MINIMAL, 5]})) == [
        {"index": 1, "field": None, "message": "Each alert must be a JSON object."}
    ]


def test_every_problem_of_a_batch_is_reported_with_its_index_and_nothing_is_accepted():
    batch = [MINIMAL, MINIMAL | {"severity": "x"}, MINIMAL | {"asset": ""}]
    assert [(e["index"], e["field"]) for e in errors_of(body({"alerts": batch}))] == [
        (1, "severity"),
        (2, "asset"),
    ]


def test_after_100_errors_the_rest_is_not_checked():
    batch = [MINIMAL | {"severity": "x"}] * 150
    errors = errors_of(body({"alerts": batch}))
    assert len(errors) == 101
    assert errors[99]["index"] == 99
    assert errors[-1] == {
        "index": None,
        "field": None,
        "message": "Too many errors; the rest were not checked.",
    }


@pytest.mark.parametrize("raw", [b"{", b"\xff\xfe", b""])
def test_malformed_json_is_refused(raw):
    [error] = errors_of(raw)
    assert error["message"].startswith("Malformed JSON")


# --------------------------------------------------------------------------- content hash


def test_the_content_hash_ignores_key_order_and_offsets_of_the_same_instant():
    first = parse_body(one(attributes={"a": 1, "b": 2}))[0]
    second = parse_body(
        body(
            {
                "observed_at": "2025-05-01T14:00:00+02:00",
                "attributes": {"b": 2, "a": 1},
                **{k: v for k, v in MINIMAL.items() if k != "observed_at"},
            }
        )
    )[0]
    assert first.content_hash == second.content_hash


@pytest.mark.parametrize(
    "change",
    [
        {"alert_id": "a-2"},
        {"asset": "P-102"},
        {"condition": "other"},
        {"severity": "minor"},
        {"state": "cleared"},
        {"observed_at": "2025-05-01T12:00:01Z"},
        {"value": 1},
        {"unit": "K"},
        {"threshold": 1},
        {"message": "m"},
        {"attributes": {"a": 1}},
    ],
)
def test_the_content_hash_changes_with_any_field(change):
    assert parse_body(one())[0].content_hash != parse_body(one(**change))[0].content_hash


def test_the_content_hash_is_the_sha256_of_the_documented_canonical_form():
    # Stored hashes are compared with redeliveries: the canonical form must never drift.
    canonical = (
        '{"alert_id":"a-1","asset":"P-101","condition":"bearing_temp_high","message":"Heiß",'
        '"observed_at":"2025-05-01T12:00:00+00:00","severity":"major","state":"active",'
        '"threshold":null,"unit":"","value":81.5,"attributes":{"a":[1,"ü"],"b":null}}'
    )
    [alert] = parse_body(
        one(
            observed_at="2025-05-01T14:00:00+02:00",
            message="Heiß",
            value=81.5,
            attributes={"b": None, "a": [1, "ü"]},
        )
    )
    assert alert.content_hash == hashlib.sha256(canonical.encode()).hexdigest()


def test_at_most_20_unknown_fields_of_an_alert_are_named():
    extra = {f"x{i:02d}": 1 for i in range(25)}
    errors = errors_of(one(**extra))
    assert [e["field"] for e in errors] == [f"x{i:02d}" for i in range(20)]


def test_at_most_20_fields_next_to_alerts_are_named():
    extra = {f"x{i:02d}": 1 for i in range(25)}
    errors = errors_of(body({"alerts": [MINIMAL], **extra}))
    assert [e["field"] for e in errors] == [f"x{i:02d}" for i in range(20)]


def test_json_nested_deeper_than_the_parser_goes_is_refused_as_a_whole_body():
    raw = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    [error] = errors_of(raw)
    assert (error["index"], error["field"]) == (None, None)


@pytest.mark.parametrize("number", ["1e400", "-1e400"])
def test_a_number_out_of_double_range_inside_attributes_is_refused(number):
    raw = one().replace(b"}", f', "attributes": {{"peak": {number}}}}}'.encode())
    assert fields_refused(raw) == {"attributes"}
