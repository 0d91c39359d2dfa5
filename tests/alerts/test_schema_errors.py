"""How the alert body schema's problems read: pydantic's errors in the pinned
{"index", "field", "message"} shape and order (`cmms.bodies`)."""

import json

import pytest

from alerts.schema import SchemaError, parse_body
from cmms.bodies import BodyInvalid
from tests.alerts.test_schema import MINIMAL, body, errors_of, one


def test_the_schema_error_is_the_webhooks_body_error():
    with pytest.raises(BodyInvalid):
        parse_body(b"[]")
    assert issubclass(SchemaError, BodyInvalid)


def test_a_single_alert_is_item_0():
    assert errors_of(one(severity="x")) == [
        {
            "index": 0,
            "field": "severity",
            "message": "Must be one of critical, major, minor, warning.",
        }
    ]


@pytest.mark.parametrize("field", ["alert_id", "asset", "condition", "severity", "observed_at"])
def test_a_required_field_given_as_null_reads_as_missing(field):
    assert errors_of(one(**{field: None})) == [
        {"index": 0, "field": field, "message": "This field is required."}
    ]


def test_optional_fields_given_as_null_take_their_defaults():
    [alert] = parse_body(
        one(state=None, value=None, unit=None, threshold=None, message=None, attributes=None)
    )
    assert (alert.state, alert.value, alert.unit, alert.threshold, alert.message) == (
        "active",
        None,
        "",
        None,
        "",
    )
    assert alert.attributes == {}


def test_the_content_hash_is_computed_never_taken_from_the_body():
    assert errors_of(one(content_hash="0" * 64)) == [
        {"index": 0, "field": "content_hash", "message": "Unknown field."}
    ]


def test_an_items_unknown_fields_come_first_sorted_then_its_other_problems():
    alert = MINIMAL | {"zeta": 1, "severity": "x", "alpha": 2, "asset": ""}
    assert errors_of(body({"alerts": [MINIMAL, alert]})) == [
        {"index": 1, "field": "alpha", "message": "Unknown field."},
        {"index": 1, "field": "zeta", "message": "Unknown field."},
        {"index": 1, "field": "asset", "message": "Must be 1 to 64 characters long."},
        {
            "index": 1,
            "field": "severity",
            "message": "Must be one of critical, major, minor, warning.",
        },
    ]


def test_problems_of_the_body_come_alone_and_its_items_are_not_looked_at():
    bad = MINIMAL | {"severity": "x"}
    assert errors_of(body({"alerts": [bad] * 1001})) == [
        {"index": None, "field": "alerts", "message": "At most 1000 alerts per request."}
    ]
    assert errors_of(body({"alerts": [bad], "x": 1})) == [
        {"index": None, "field": "x", "message": "Unknown field next to 'alerts'."}
    ]


def test_at_most_100_problems_are_listed_then_one_line_says_the_rest_were_not_checked():
    batch = [MINIMAL | {"severity": "x", "state": "x"}] * 80
    errors = errors_of(body({"alerts": batch}))
    assert len(errors) == 101
    assert errors[99] == {"index": 49, "field": "state", "message": "Must be active or cleared."}
    assert errors[-1] == {
        "index": None,
        "field": None,
        "message": "Too many errors; the rest were not checked.",
    }


def test_attributes_nested_33_levels_are_refused_and_32_accepted():
    def nested(levels):
        value = {"leaf": 1}
        for _ in range(levels - 1):
            value = {"a": value}
        return value

    assert parse_body(one(attributes=nested(32)))[0].attributes == nested(32)
    assert errors_of(one(attributes=nested(33))) == [
        {"index": 0, "field": "attributes", "message": "Must be nested at most 32 levels deep."}
    ]


def test_brackets_inside_attribute_texts_are_not_nesting():
    attributes = {"note": "[" * 40 + "{" * 40, "list": [[["x"]]]}
    assert parse_body(one(attributes=attributes))[0].attributes == attributes


def test_the_stored_attributes_are_the_object_sent():
    attributes = {"b": [1, 2.5, None, True], "a": {"ü": "x"}}
    [alert] = parse_body(one(attributes=attributes))
    assert alert.attributes == attributes
    assert json.loads(json.dumps(alert.attributes)) == attributes
