"""Field types of the gateway webhook body schemas (pydantic), shared by every schema.

Each type carries its own rule and the sentence a client reads when a value breaks it
(a `PydanticCustomError` of kind ``body_rule``), so `cmms.bodies` only words the structure
around the fields (missing, unknown, not an object, list length). Values PostgreSQL would
refuse (NUL characters, unpaired surrogates, non-finite numbers, out-of-range dates) are
refused here, so nothing a client sends turns into a 500 later.
"""

import json
import math
import re
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Annotated, Any, NoReturn

from pydantic import ConfigDict, Field, PlainValidator
from pydantic.dataclasses import dataclass
from pydantic_core import PydanticCustomError

from cmms.jsondepth import MAX_JSON_DEPTH, nested_deeper_than

RULE = "body_rule"
REQUIRED = "This field is required."

# RFC 3339 date-time: full date, "T" (or t / space), time, optional fraction, required offset.
RFC3339_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})"
)


def body_schema(cls: type) -> type:
    """`cls` as the pydantic dataclass of a body or of an item in it: unknown fields are
    refused, fields are given by name."""
    return dataclass(slots=True, kw_only=True, config=ConfigDict(extra="forbid"))(cls)


def refuse(message: str) -> NoReturn:
    """Refuse the value being validated with `message` as the client's sentence."""
    raise PydanticCustomError(RULE, message)


def storable(text: str) -> bool:
    """PostgreSQL text takes neither NUL nor unpaired surrogates."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def text(min_length: int, max_length: int, *, required: bool = True) -> Any:
    """A string of `min_length` to `max_length` characters that PostgreSQL can store.

    An optional text given as null or left out is "".
    """
    length = f"Must be {min_length} to {max_length} characters long."

    def check(value: Any) -> str:
        if value is None:
            if required:
                refuse(REQUIRED)
            return ""
        if not isinstance(value, str):
            refuse("Must be a string.")
        if not min_length <= len(value) <= max_length:
            refuse(length)
        if not storable(value):
            refuse("Contains a NUL character or invalid Unicode.")
        return value

    return Annotated[str, PlainValidator(check)]


def printable_text(max_length: int) -> Any:
    """A required string of 1 to `max_length` printable characters (an identifier)."""
    shape = f"Must be a string of 1 to {max_length} characters."

    def check(value: Any) -> str:
        if value is None:
            refuse(REQUIRED)
        if not isinstance(value, str) or not 1 <= len(value) <= max_length:
            refuse(shape)
        if not value.isprintable():  # NUL and unpaired surrogates are not printable either
            refuse("Contains control characters.")
        return value

    return Annotated[str, PlainValidator(check)]


def matching(pattern: re.Pattern, message: str) -> Any:
    """A required string that `pattern` matches whole; anything else is refused with `message`."""

    def check(value: Any) -> str:
        if value is None:
            refuse(REQUIRED)
        if not isinstance(value, str) or not pattern.fullmatch(value):
            refuse(message)
        return value

    return Annotated[str, PlainValidator(check)]


def choice(values: Collection[str], message: str, *, default: str | None = None) -> Any:
    """One of `values`; null or left out is `default` (required when there is none)."""
    allowed = frozenset(values)

    def check(value: Any) -> str:
        if value is None:
            if default is None:
                refuse(REQUIRED)
            return default
        if not isinstance(value, str) or value not in allowed:
            refuse(message)
        return value

    return Annotated[str, PlainValidator(check)]


def finite_number(
    message: str = "Must be a finite number within double precision.", *, required: bool = False
) -> Any:
    """A JSON number as a float; null or left out is None unless `required`. A number no double
    holds (1e400, 10**400) is refused with `message`; range constraints such as
    `Field(gt=..., lt=...)` apply after this."""

    def check(value: Any) -> float | None:
        if value is None:
            if required:
                refuse(REQUIRED)
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            refuse("Must be a number.")
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            refuse(message)
        return number

    return Annotated[float | None, PlainValidator(check)]


def parse_timestamp(value: Any) -> datetime | None:
    """An aware UTC datetime from an RFC 3339 string with an offset, or None.

    Fractions past microseconds are cut, not rounded; an instant past year 9999 or before
    year 1 once in UTC is None.
    """
    if not isinstance(value, str) or len(value) > 40:
        return None
    match = RFC3339_RE.fullmatch(value)
    if not match:
        return None
    fraction = match.group(7) or ""
    offset = match.group(8)
    normalised = (
        f"{match.group(1)}-{match.group(2)}-{match.group(3)}T"
        f"{match.group(4)}:{match.group(5)}:{match.group(6)}"
        f"{fraction[:7]}{'+00:00' if offset in ('Z', 'z') else offset}"
    )
    try:
        parsed = datetime.fromisoformat(normalised)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def timestamp(message: str) -> Any:
    """A required RFC 3339 timestamp with an offset, as an aware UTC datetime."""

    def check(value: Any) -> datetime:
        if value is None:
            refuse(REQUIRED)
        parsed = parse_timestamp(value)
        if parsed is None:
            refuse(message)
        return parsed

    return Annotated[datetime, PlainValidator(check)]


def canonical_json(value: Any) -> str:
    """The one JSON text of `value` that content hashes are taken over: keys sorted, compact."""
    return json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    )


class JSONObject(dict):
    """A JSON object from a body that keeps its canonical JSON text, serialised once for both
    the size rule and a content hash (serialising is much of an item's validation time)."""

    __slots__ = ("canonical",)


def json_object(max_bytes: int, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """A JSON object of at most `max_bytes` serialised, nested at most `max_depth` levels
    (deeper ones pages could not render), that PostgreSQL can store; null or left out (a
    default of None) is {}."""
    return Annotated[
        JSONObject,
        PlainValidator(lambda value: checked_json_object(value, max_bytes, max_depth)),
        Field(validate_default=True),
    ]


def checked_json_object(value: Any, max_bytes: int, max_depth: int) -> JSONObject:
    """`value` as a JSONObject if it is one `json_object(max_bytes, max_depth)` takes."""
    if value is None:
        value = {}
    if not isinstance(value, dict):
        refuse("Must be a JSON object.")
    try:
        canonical = canonical_json(value)
    except (ValueError, RecursionError):  # a number out of range (1e400 is inf)
        canonical = None
    # A text with at most `max_depth` brackets cannot nest deeper; the walk is for the rest.
    brackets = max_depth + 1 if canonical is None else canonical.count("{") + canonical.count("[")
    if brackets > max_depth and nested_deeper_than(value, max_depth):
        refuse(f"Must be nested at most {max_depth} levels deep.")
    if canonical is None:
        refuse("Holds a number out of range or is nested too deeply.")
    try:
        size = len(canonical.encode("utf-8"))
    except UnicodeEncodeError:
        refuse("Contains invalid Unicode.")
    if size > max_bytes:
        refuse(f"Must be at most {max_bytes // 1024} KiB when serialised.")
    if "\\u0000" in canonical:
        refuse("Contains a NUL character.")
    checked = JSONObject(value)
    checked.canonical = canonical
    return checked
