"""The readings webhook body: {"readings": [{"reading_id", "asset", "meter", "value",
"observed_at"}]}, declared with pydantic.

Like the alerts webhook, any schema problem refuses the whole request with every problem
listed (`cmms.bodies` words pydantic's errors in the pinned shape). The value's range is a
schema rule on the JSON number itself, since converting 1e27 or 10**40 to the column's scale
is what fails.
"""

import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, TypeAdapter

from cmms import body_types as types
from cmms.bodies import BodyInvalid, validate_body

MAX_READINGS = 1000
MAX_READING_ID = 128
MAX_ASSET_TAG = 64
METER_CODE_RE = re.compile(r"[-a-zA-Z0-9_]{1,50}")
MAX_VALUE = 10**13  # the column holds 13 integer digits
MAGNITUDE = "Must be less than 10^13 in magnitude."
SCALE = Decimal("0.001")


class SchemaError(BodyInvalid):
    pass


def _column_scale(value: float) -> Decimal:
    """The reading as a Decimal of the column's scale; 9999999999999.9999 rounds up to 10^13,
    which the column does not hold either."""
    scaled = Decimal(str(value)).quantize(SCALE)
    if abs(scaled) >= MAX_VALUE:
        types.refuse(MAGNITUDE)
    return scaled


MeterValue = Annotated[
    types.finite_number("Must be a finite number.", required=True),
    Field(gt=-MAX_VALUE, lt=MAX_VALUE),
    AfterValidator(_column_scale),
]


@types.body_schema
class ReadingIn:
    reading_id: types.printable_text(MAX_READING_ID)
    asset_tag: Annotated[types.printable_text(MAX_ASSET_TAG), Field(alias="asset")]
    meter_code: Annotated[
        types.matching(METER_CODE_RE, "Must be a meter code (1 to 50 of a-z, 0-9, -, _)."),
        Field(alias="meter"),
    ]
    value: MeterValue
    observed_at: types.timestamp(
        "Must be an RFC 3339 timestamp with an offset, e.g. 2025-05-01T12:00:00Z."
    )


@types.body_schema
class ReadingBatch:
    readings: Annotated[list[ReadingIn], Field(min_length=1, max_length=MAX_READINGS)]


def _only_readings(data: Any) -> Any:
    if not isinstance(data, dict) or set(data) != {"readings"}:
        types.refuse('The body must be {"readings": [...]}.')
    return data


BODY = TypeAdapter(Annotated[ReadingBatch, BeforeValidator(_only_readings)])
# pydantic's own errors (the list's shape, the value's range), worded for this body.
WORDING = {
    "list_type": "Must be a non-empty list of readings.",
    "too_short": "Must be a non-empty list of readings.",
    "too_long": f"At most {MAX_READINGS} per request.",
    "greater_than": MAGNITUDE,
    "less_than": MAGNITUDE,
    "dataclass_type": "Each reading must be a JSON object.",
}


def parse_body(body: bytes) -> list[ReadingIn]:
    """The validated readings of a request body, or SchemaError with every problem found."""
    return validate_body(body, BODY, wording=WORDING, invalid=SchemaError).readings
