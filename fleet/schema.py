"""The heartbeat webhook body, declared with pydantic like the alerts and readings bodies.

Every field is optional: a gateway says what it knows. A field left out (or null) leaves the
stored value as it is, except `battery_percent`, where null means "no battery" (mains powered)
and empties the stored level; `UNSET` tells the two apart. Any problem refuses the whole
request with every problem listed in the pinned shape (`cmms.bodies`): a sensor's problem
names its place in `sensors` as the index, the gateway's own fields have no index.
"""

import dataclasses
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from django.utils import timezone
from pydantic import BeforeValidator, Field, PlainValidator, TypeAdapter

from cmms import body_types as types
from cmms.bodies import MAX_ERRORS, TOO_MANY, BodyInvalid, body_error, validate_body

MAX_SENSORS = 500
MAX_FIRMWARE = 64
MAX_UPTIME_SECONDS = 10**10
MIN_DBM, MAX_DBM = -200, 50
# A gateway's clock may run a little ahead of ours; a sample further in the future is a bug.
MAX_SAMPLE_AHEAD = timedelta(minutes=5)
# An unset clock reads as year 1 or 1970 on many devices: such a sample time is refused, not
# stored (it would make the sensor look silent since antiquity, and is no local time anywhere).
EARLIEST_SAMPLE = datetime(2000, 1, 1, tzinfo=UTC)
SENSOR_ID_RE = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


class SchemaError(BodyInvalid):
    pass


class _Unset:
    """A field the body left out (as opposed to one sent as null)."""

    __slots__ = ()

    def __repr__(self):
        return "UNSET"

    def __bool__(self):
        return False


UNSET: Any = _Unset()


def _integer(minimum: int, maximum: int, *, null_is_unset: bool) -> Any:
    """A JSON integer from `minimum` to `maximum` (not a boolean, not 88.0). Null is UNSET
    (left as it is) when `null_is_unset`, else None (stored empty)."""
    message = f"Must be an integer from {minimum} to {maximum}."

    def check(value: Any) -> int | None:
        if value is None:
            return UNSET if null_is_unset else None
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            types.refuse(message)
        return value

    return Annotated[Any, PlainValidator(check)]


def _optional(validator: Callable[[Any], Any]) -> Any:
    """`validator`'s type, with null as UNSET (left as it is)."""
    return Annotated[
        Any, PlainValidator(lambda value: UNSET if value is None else validator(value))
    ]


def _firmware(value: Any) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_FIRMWARE:
        types.refuse(f"Must be a string of 1 to {MAX_FIRMWARE} characters.")
    if not value.isprintable():  # NUL and unpaired surrogates are not printable either
        types.refuse("Contains control characters.")
    return value


TIMESTAMP = (
    "Must be an RFC 3339 timestamp with an offset, "
    "e.g. 2026-11-30T07:59:12Z or 2026-11-30T08:59:12+01:00."
)


def _sample_time(value: Any) -> datetime:
    parsed = types.parse_timestamp(value)
    if parsed is None:
        types.refuse(TIMESTAMP)
    if parsed > timezone.now() + MAX_SAMPLE_AHEAD:
        types.refuse("Must not be more than 5 minutes in the future.")
    if parsed < EARLIEST_SAMPLE:
        types.refuse("Must not be before 2000-01-01 (is the sensor's clock set?).")
    return parsed


Percent = _integer(0, 100, null_is_unset=False)
Dbm = _integer(MIN_DBM, MAX_DBM, null_is_unset=True)


@types.body_schema
class SensorReport:
    """What a gateway says about one of its sensors; `id` is the sensor's code."""

    id: types.matching(
        SENSOR_ID_RE, "Must be 1 to 64 characters of A-Z, a-z, 0-9, '_', '.', ':', '-'."
    )
    last_sample_at: _optional(_sample_time) = UNSET
    battery_percent: Percent = UNSET
    signal_dbm: Dbm = UNSET


@types.body_schema
class Heartbeat:
    """A validated heartbeat: UNSET marks what the gateway did not say."""

    firmware: _optional(_firmware) = UNSET
    uptime_seconds: _integer(0, MAX_UPTIME_SECONDS - 1, null_is_unset=True) = UNSET
    signal_dbm: Dbm = UNSET
    battery_percent: Percent = UNSET
    # null or left out: no sensors reported.
    sensors: Annotated[
        list[SensorReport],
        BeforeValidator(lambda value: [] if value is None else value),
        Field(max_length=MAX_SENSORS),
    ] = dataclasses.field(default_factory=list)


def _an_object(data: Any) -> Any:
    if not isinstance(data, dict):
        types.refuse("The body must be a JSON object (it may be empty: {}).")
    return data


BODY = TypeAdapter(Annotated[Heartbeat, BeforeValidator(_an_object)])


# pydantic's own errors about the body (unknown fields, the list's shape), worded for it.
WORDING = {
    "unexpected_keyword_argument": "Unknown field.",
    "list_type": "Must be a list of sensor objects.",
    "too_long": f"At most {MAX_SENSORS} sensors per heartbeat.",
    "dataclass_type": "Each sensor must be a JSON object.",
}


def _duplicates(sensors: list[SensorReport]) -> list[dict]:
    """A problem for every sensor whose id came earlier in the same body."""
    first_at: dict[str, int] = {}
    errors = []
    for index, sensor in enumerate(sensors):
        earlier = first_at.setdefault(sensor.id, index)
        if earlier != index:
            errors.append(
                body_error(index, "id", f"Duplicate sensor id (first at index {earlier}).")
            )
    if len(errors) > MAX_ERRORS:
        errors = [*errors[:MAX_ERRORS], body_error(None, None, TOO_MANY)]
    return errors


def parse_body(body: bytes) -> Heartbeat:
    """The validated heartbeat of a request body, or SchemaError with every problem found."""
    heartbeat = validate_body(body, BODY, wording=WORDING, invalid=SchemaError)
    errors = _duplicates(heartbeat.sensors)
    if errors:
        raise SchemaError(errors)
    return heartbeat
