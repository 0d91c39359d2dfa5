"""Parse and validate the body of the gateway readings webhook.

{"readings": [{"reading_id", "asset", "meter", "value", "observed_at"}]}; like the alerts
webhook, any schema problem refuses the whole request with every problem listed.
"""

import json
import math
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from alerts.schema import parse_timestamp
from cmms.bodies import BodyInvalid

MAX_READINGS = 1000
MAX_READING_ID = 128
MAX_ASSET_TAG = 64
METER_CODE_RE = re.compile(r"[-a-zA-Z0-9_]{1,50}")
MAX_VALUE = 10**13  # the column holds 13 integer digits
KNOWN = frozenset({"reading_id", "asset", "meter", "value", "observed_at"})


class SchemaError(BodyInvalid):
    pass


@dataclass(slots=True)
class ReadingIn:
    reading_id: str
    asset_tag: str
    meter_code: str
    value: Decimal
    observed_at: datetime


def _error(index, field, message) -> dict:
    return {"index": index, "field": field, "message": message}


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def parse_body(body: bytes) -> list[ReadingIn]:
    """The validated readings of a request body, or SchemaError with every problem found."""
    try:
        data = json.loads(body, parse_constant=_reject_constant)
    except RecursionError:
        raise SchemaError([_error(None, None, "JSON is nested too deeply.")]) from None
    except ValueError as exc:
        raise SchemaError([_error(None, None, f"Malformed JSON: {exc}")]) from None
    if not isinstance(data, dict) or set(data) != {"readings"}:
        raise SchemaError([_error(None, None, 'The body must be {"readings": [...]}.')])
    items = data["readings"]
    if not isinstance(items, list) or not items:
        raise SchemaError([_error(None, "readings", "Must be a non-empty list of readings.")])
    if len(items) > MAX_READINGS:
        raise SchemaError([_error(None, "readings", f"At most {MAX_READINGS} per request.")])
    readings, errors = [], []
    for index, item in enumerate(items):
        reading = _validate(index, item, errors)
        if reading is not None:
            readings.append(reading)
        if len(errors) >= 100:
            errors.append(_error(None, None, "Too many errors; the rest were not checked."))
            break
    if errors:
        raise SchemaError(errors)
    return readings


def _text(index, item, field, errors, max_length) -> str | None:
    value = item.get(field)
    if value is None:
        errors.append(_error(index, field, "This field is required."))
    elif not isinstance(value, str) or not 1 <= len(value) <= max_length:
        errors.append(_error(index, field, f"Must be a string of 1 to {max_length} characters."))
    elif "\x00" in value or not value.isprintable():
        errors.append(_error(index, field, "Contains control characters."))
    else:
        return value
    return None


def _value(index, raw, errors) -> Decimal | None:
    """The reading as a Decimal of the column's scale; the range is checked on the JSON number
    itself, since converting 1e27 or 10**40 to that scale is what fails."""
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        errors.append(_error(index, "value", "Must be a number."))
    elif isinstance(raw, float) and not math.isfinite(raw):
        errors.append(_error(index, "value", "Must be a finite number."))
    elif -MAX_VALUE < raw < MAX_VALUE:
        value = Decimal(str(raw)).quantize(Decimal("0.001"))
        if abs(value) < MAX_VALUE:  # 9999999999999.9999 rounds up to 10^13
            return value
        errors.append(_error(index, "value", "Must be less than 10^13 in magnitude."))
    else:
        errors.append(_error(index, "value", "Must be less than 10^13 in magnitude."))
    return None


def _validate(index, item, errors) -> ReadingIn | None:
    if not isinstance(item, dict):
        errors.append(_error(index, None, "Each reading must be a JSON object."))
        return None
    start = len(errors)
    for key in sorted(set(item) - KNOWN)[:20]:
        errors.append(_error(index, key, "Unknown field."))
    reading_id = _text(index, item, "reading_id", errors, MAX_READING_ID)
    asset_tag = _text(index, item, "asset", errors, MAX_ASSET_TAG)
    meter = item.get("meter")
    if not isinstance(meter, str) or not METER_CODE_RE.fullmatch(meter):
        errors.append(_error(index, "meter", "Must be a meter code (1 to 50 of a-z, 0-9, -, _)."))
    value = _value(index, item.get("value"), errors)
    observed_at = parse_timestamp(item.get("observed_at"))
    if observed_at is None:
        errors.append(
            _error(
                index,
                "observed_at",
                "Must be an RFC 3339 timestamp with an offset, e.g. 2025-05-01T12:00:00Z.",
            )
        )
    if len(errors) > start:
        return None
    return ReadingIn(reading_id, asset_tag, meter, value, observed_at)
