"""The pinned error answer of the gateway webhooks, shared by every body schema.

A body that breaks its schema is refused whole with every problem listed as
``{"index", "field", "message"}`` (``index`` is the item's place in a batch, or None).
The schemas are pydantic types (`cmms.body_types` holds their field types); `validate_body`
parses the JSON and turns pydantic's errors into that list, so no schema words its own.

The body is parsed with the standard library, not pydantic's parser: it keeps an unpaired
surrogate in a string (so the field that holds it is named instead of the whole body refused)
and refuses NaN and Infinity, which are not JSON.
"""

import json
from collections.abc import Mapping
from typing import TypeVar

from pydantic import TypeAdapter, ValidationError

from cmms.body_types import REQUIRED, RULE

MAX_ERRORS = 100
MAX_UNKNOWN_FIELDS = 20
TOO_MANY = "Too many errors; the rest were not checked."
UNKNOWN = frozenset({"extra_forbidden", "unexpected_keyword_argument"})
# How pydantic's errors about the structure read inside an item; the body's are the schema's.
ITEM_WORDING = {
    "missing": REQUIRED,
    "extra_forbidden": "Unknown field.",
    "unexpected_keyword_argument": "Unknown field.",
}

Body = TypeVar("Body")


class BodyInvalid(Exception):
    """A request body that breaks its schema; `errors` holds the problems in the pinned shape."""

    def __init__(self, errors: list[dict]):
        super().__init__(f"{len(errors)} schema error(s)")
        self.errors = errors


def body_error(index: int | None, field: str | None, message: str) -> dict:
    return {"index": index, "field": field, "message": message}


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def validate_body(
    body: bytes,
    schema: TypeAdapter[Body],
    *,
    wording: Mapping[str, str],
    invalid: type[BodyInvalid] = BodyInvalid,
) -> Body:
    """`body` parsed and validated by `schema`, or `invalid` with every problem found.

    `wording` maps pydantic's error types about the body itself (not an object, unknown
    fields next to the list, list too short or too long, an item that is not an object)
    to the sentences of this schema; the field types word their own rules.
    """
    try:
        data = json.loads(body, parse_constant=_reject_constant)
    except RecursionError:
        raise invalid([body_error(None, None, "JSON is nested too deeply.")]) from None
    except ValueError as exc:  # also UnicodeDecodeError
        raise invalid([body_error(None, None, f"Malformed JSON: {exc}")]) from None
    try:
        return schema.validate_python(data)
    except ValidationError as exc:
        raise invalid(pinned_errors(exc, wording)) from None


def pinned_errors(error: ValidationError, wording: Mapping[str, str]) -> list[dict]:
    """pydantic's errors in the pinned shape and order.

    Problems of the body itself come alone (the items were not looked at, as before the
    schemas were declared); an item's unknown fields come first, sorted, at most 20 of them;
    after 100 problems one line says the rest were not checked.
    """
    body, items = [], {}
    for line in error.errors(include_url=False, include_context=False, include_input=False):
        index, field = _place(line["loc"])
        entry = body_error(index, field, _message(line, index, wording))
        if index is None:
            body.append((line["type"], entry))
        else:
            items.setdefault(index, []).append((line["type"], entry))
    if body:
        return _unknown_first(body)
    errors = [entry for index in sorted(items) for entry in _unknown_first(items[index])]
    if len(errors) > MAX_ERRORS:
        errors = [*errors[:MAX_ERRORS], body_error(None, None, TOO_MANY)]
    return errors


def _place(loc: tuple) -> tuple[int | None, str | None]:
    """(index, field) of a pydantic location: (list, index, field, ...) in an item of the
    batch, (field,) or () on the body itself."""
    if len(loc) >= 2 and isinstance(loc[1], int):
        return loc[1], (str(loc[2]) if len(loc) > 2 else None)
    return None, (str(loc[0]) if loc else None)


def _message(line: dict, index: int | None, wording: Mapping[str, str]) -> str:
    kind = line["type"]
    if kind == RULE:
        return line["msg"]
    if index is not None and kind in ITEM_WORDING:
        return ITEM_WORDING[kind]
    return wording.get(kind, line["msg"])


def _unknown_first(errors: list[tuple[str, dict]]) -> list[dict]:
    unknown = sorted(
        (entry for kind, entry in errors if kind in UNKNOWN), key=lambda entry: entry["field"]
    )
    return [
        *unknown[:MAX_UNKNOWN_FIELDS],
        *(entry for kind, entry in errors if kind not in UNKNOWN),
    ]
