"""Parse and validate a webhook body: one alert object or {"alerts": [...]}.

Hand-written rather than a DRF serializer: a batch of 1,000 alerts is validated on the
hot path. Every problem is collected as {"index", "field", "message"}; any problem
refuses the whole request. Values that PostgreSQL would refuse (NUL characters,
unpaired surrogates, non-finite numbers, out-of-range dates) are schema errors here, and so
is `attributes` nested deeper than MAX_JSON_DEPTH (which pages could not render), so nothing
a client sends can turn into a 500 later.
"""

import hashlib
import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from alerts.choices import AlertState
from cmms.bodies import BodyInvalid
from cmms.jsondepth import MAX_JSON_DEPTH, nested_deeper_than
from pipeline.choices import Severity

MAX_ALERTS = 1000
MAX_ALERT_ID = 128
MAX_ASSET_TAG = 64
MAX_UNIT = 32
MAX_MESSAGE = 2000
MAX_ATTRIBUTES_BYTES = 16 * 1024

CONDITION_RE = re.compile(r"[a-z0-9_.-]{1,64}")
# RFC 3339 date-time: full date, "T" (or t / space), time, optional fraction, required offset.
RFC3339_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})"
)

REQUIRED = ("alert_id", "asset", "condition", "severity", "observed_at")
OPTIONAL = ("state", "value", "unit", "threshold", "message", "attributes")
KNOWN = frozenset(REQUIRED + OPTIONAL)
SEVERITIES = frozenset(Severity.values)
STATES = frozenset(AlertState.values)


class SchemaError(BodyInvalid):
    pass


@dataclass(slots=True)
class AlertIn:
    """One validated alert, ready to store."""

    alert_id: str
    asset_tag: str
    condition: str
    severity: str
    state: str
    observed_at: datetime
    value: float | None
    unit: str
    threshold: float | None
    message: str
    attributes: dict
    content_hash: str


def _error(index, field, message) -> dict:
    return {"index": index, "field": field, "message": message}


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def parse_body(body: bytes) -> list[AlertIn]:
    """The validated alerts of a request body, or SchemaError with every problem found."""
    try:
        data = json.loads(body, parse_constant=_reject_constant)
    except RecursionError:
        raise SchemaError([_error(None, None, "JSON is nested too deeply.")]) from None
    except ValueError as exc:  # also UnicodeDecodeError
        raise SchemaError([_error(None, None, f"Malformed JSON: {exc}")]) from None

    if isinstance(data, dict) and "alerts" in data:
        extra = sorted(set(data) - {"alerts"})
        if extra:
            raise SchemaError(
                [_error(None, key, "Unknown field next to 'alerts'.") for key in extra[:20]]
            )
        items = data["alerts"]
        if not isinstance(items, list):
            raise SchemaError([_error(None, "alerts", "Must be a list of alert objects.")])
        if not items:
            raise SchemaError([_error(None, "alerts", "Must hold at least one alert.")])
        if len(items) > MAX_ALERTS:
            raise SchemaError([_error(None, "alerts", f"At most {MAX_ALERTS} alerts per request.")])
    elif isinstance(data, dict):
        items = [data]
    else:
        raise SchemaError(
            [_error(None, None, 'The body must be an alert object or {"alerts": [...]}.')]
        )

    alerts, errors = [], []
    for index, item in enumerate(items):
        alert = _validate(index, item, errors)
        if alert is not None:
            alerts.append(alert)
        if len(errors) >= 100:
            errors.append(_error(None, None, "Too many errors; the rest were not checked."))
            break
    if errors:
        raise SchemaError(errors)
    return alerts


def _storable(text: str) -> bool:
    """PostgreSQL text takes neither NUL nor unpaired surrogates."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _text(index, item, field, errors, *, required, min_length, max_length):
    value = item.get(field)
    if value is None:
        if required:
            errors.append(_error(index, field, "This field is required."))
        return None if required else ""
    if not isinstance(value, str):
        errors.append(_error(index, field, "Must be a string."))
        return None
    if not min_length <= len(value) <= max_length:
        errors.append(
            _error(index, field, f"Must be {min_length} to {max_length} characters long.")
        )
        return None
    if not _storable(value):
        errors.append(_error(index, field, "Contains a NUL character or invalid Unicode."))
        return None
    return value


def _number(index, item, field, errors):
    value = item.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        errors.append(_error(index, field, "Must be a number."))
        return None
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        errors.append(_error(index, field, "Must be a finite number within double precision."))
        return None
    return number


def parse_timestamp(value) -> datetime | None:
    """An aware UTC datetime from an RFC 3339 string with an offset, or None."""
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


def _validate(index: int, item, errors: list[dict]) -> AlertIn | None:
    if not isinstance(item, dict):
        errors.append(_error(index, None, "Each alert must be a JSON object."))
        return None
    start = len(errors)
    for key in sorted(set(item) - KNOWN)[:20]:
        errors.append(_error(index, key, "Unknown field."))

    alert_id = _text(
        index, item, "alert_id", errors, required=True, min_length=1, max_length=MAX_ALERT_ID
    )
    asset_tag = _text(
        index, item, "asset", errors, required=True, min_length=1, max_length=MAX_ASSET_TAG
    )

    condition = item.get("condition")
    if condition is None:
        errors.append(_error(index, "condition", "This field is required."))
    elif not isinstance(condition, str) or not CONDITION_RE.fullmatch(condition):
        errors.append(
            _error(index, "condition", "Must be 1 to 64 characters of a-z, 0-9, '_', '.', '-'.")
        )

    severity = item.get("severity")
    if severity is None:
        errors.append(_error(index, "severity", "This field is required."))
    elif not isinstance(severity, str) or severity not in SEVERITIES:
        errors.append(_error(index, "severity", "Must be one of critical, major, minor, warning."))

    state = item.get("state")
    if state is None:
        state = AlertState.ACTIVE.value
    elif not isinstance(state, str) or state not in STATES:
        errors.append(_error(index, "state", "Must be active or cleared."))

    raw_observed = item.get("observed_at")
    observed_at = None
    if raw_observed is None:
        errors.append(_error(index, "observed_at", "This field is required."))
    else:
        observed_at = parse_timestamp(raw_observed)
        if observed_at is None:
            errors.append(
                _error(
                    index,
                    "observed_at",
                    "Must be an RFC 3339 timestamp with an offset, "
                    "e.g. 2025-05-01T12:00:00Z or 2025-05-01T14:00:00+02:00.",
                )
            )

    value = _number(index, item, "value", errors)
    threshold = _number(index, item, "threshold", errors)
    unit = _text(index, item, "unit", errors, required=False, min_length=0, max_length=MAX_UNIT)
    message = _text(
        index, item, "message", errors, required=False, min_length=0, max_length=MAX_MESSAGE
    )

    attributes = item.get("attributes")
    attributes_json = "{}"
    if attributes is None:
        attributes = {}
    elif not isinstance(attributes, dict):
        errors.append(_error(index, "attributes", "Must be a JSON object."))
    elif nested_deeper_than(attributes, MAX_JSON_DEPTH):
        errors.append(
            _error(index, "attributes", f"Must be nested at most {MAX_JSON_DEPTH} levels deep.")
        )
    else:
        try:
            attributes_json = json.dumps(
                attributes,
                ensure_ascii=False,
                sort_keys=True,
                separators=(",", ":"),
                allow_nan=False,
            )
            size = len(attributes_json.encode("utf-8"))
        except UnicodeEncodeError:
            errors.append(_error(index, "attributes", "Contains invalid Unicode."))
        except (ValueError, RecursionError):
            errors.append(
                _error(index, "attributes", "Holds a number out of range or is nested too deeply.")
            )
        else:
            if size > MAX_ATTRIBUTES_BYTES:
                errors.append(
                    _error(index, "attributes", "Must be at most 16 KiB when serialised.")
                )
            elif "\\u0000" in attributes_json or "\x00" in attributes_json:
                errors.append(_error(index, "attributes", "Contains a NUL character."))

    if len(errors) > start:
        return None
    content = {
        "alert_id": alert_id,
        "asset": asset_tag,
        "condition": condition,
        "severity": severity,
        "state": state,
        "observed_at": observed_at.isoformat(),
        "value": value,
        "unit": unit,
        "threshold": threshold,
        "message": message,
    }
    canonical = (
        json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)[:-1]
        + ',"attributes":'
        + attributes_json
        + "}"
    )
    return AlertIn(
        alert_id=alert_id,
        asset_tag=asset_tag,
        condition=condition,
        severity=severity,
        state=state,
        observed_at=observed_at,
        value=value,
        unit=unit,
        threshold=threshold,
        message=message,
        attributes=attributes,
        content_hash=hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
    )
