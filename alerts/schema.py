"""The alerts webhook body: one alert object or {"alerts": [...]}, declared with pydantic.

Every rule of an alert is a field type (`cmms.body_types`) or a validator here; any problem
refuses the whole request with every problem listed (`cmms.bodies` words pydantic's errors
in the pinned shape). A batch of 1,000 alerts is validated on the hot path:
`python -m bench.schema_parse` measures it. Values PostgreSQL would refuse are schema errors,
and so is `attributes` nested deeper than MAX_JSON_DEPTH (which pages could not render), so
nothing a client sends can turn into a 500 later.
"""

import dataclasses
import hashlib
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, TypeAdapter

from alerts.choices import AlertState
from cmms import body_types as types
from cmms.bodies import BodyInvalid, validate_body
from pipeline.choices import Severity

MAX_ALERTS = 1000
MAX_ALERT_ID = 128
MAX_ASSET_TAG = 64
MAX_UNIT = 32
MAX_MESSAGE = 2000
MAX_ATTRIBUTES_BYTES = 16 * 1024

CONDITION_RE = re.compile(r"[a-z0-9_.-]{1,64}")


class SchemaError(BodyInvalid):
    pass


@types.body_schema
class AlertIn:
    """One validated alert, ready to store; `content_hash` tells a redelivery from a change."""

    alert_id: types.text(1, MAX_ALERT_ID)
    asset_tag: Annotated[types.text(1, MAX_ASSET_TAG), Field(alias="asset")]
    condition: types.matching(
        CONDITION_RE, "Must be 1 to 64 characters of a-z, 0-9, '_', '.', '-'."
    )
    severity: types.choice(Severity.values, "Must be one of critical, major, minor, warning.")
    state: types.choice(
        AlertState.values, "Must be active or cleared.", default=AlertState.ACTIVE.value
    ) = AlertState.ACTIVE.value
    observed_at: types.timestamp(
        "Must be an RFC 3339 timestamp with an offset, "
        "e.g. 2025-05-01T12:00:00Z or 2025-05-01T14:00:00+02:00."
    )
    value: types.finite_number() = None
    threshold: types.finite_number() = None
    unit: types.text(0, MAX_UNIT, required=False) = ""
    message: types.text(0, MAX_MESSAGE, required=False) = ""
    attributes: types.json_object(MAX_ATTRIBUTES_BYTES) = None
    content_hash: str = dataclasses.field(init=False, default="")

    def __post_init__(self):
        content = {
            "alert_id": self.alert_id,
            "asset": self.asset_tag,
            "condition": self.condition,
            "severity": self.severity,
            "state": self.state,
            "observed_at": self.observed_at.isoformat(),
            "value": self.value,
            "unit": self.unit,
            "threshold": self.threshold,
            "message": self.message,
        }
        # The documented canonical form: the fields sorted, then "attributes" last.
        canonical = (
            types.canonical_json(content)[:-1] + ',"attributes":' + self.attributes.canonical + "}"
        )
        self.content_hash = hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@types.body_schema
class AlertBatch:
    alerts: Annotated[list[AlertIn], Field(min_length=1, max_length=MAX_ALERTS)]


def _one_alert_is_a_batch_of_one(data: Any) -> Any:
    if not isinstance(data, dict):
        types.refuse('The body must be an alert object or {"alerts": [...]}.')
    return data if "alerts" in data else {"alerts": [data]}


BODY = TypeAdapter(Annotated[AlertBatch, BeforeValidator(_one_alert_is_a_batch_of_one)])
# pydantic's own errors about the body (its shape, the list's length), worded for this body.
WORDING = {
    "unexpected_keyword_argument": "Unknown field next to 'alerts'.",
    "list_type": "Must be a list of alert objects.",
    "too_short": "Must hold at least one alert.",
    "too_long": f"At most {MAX_ALERTS} alerts per request.",
    "dataclass_type": "Each alert must be a JSON object.",
}


def parse_body(body: bytes) -> list[AlertIn]:
    """The validated alerts of a request body, or SchemaError with every problem found."""
    return validate_body(body, BODY, wording=WORDING, invalid=SchemaError).alerts
