"""The alert body declared with msgspec, for `bench.schema_parse` only (not shipped).

The same rules as `alerts.schema` on a valid batch: lengths, patterns and choices as msgspec
constraints; the timestamp, attributes and content hash in `__post_init__`, which msgspec
runs while decoding. What it cannot do is list every problem: decoding stops at the first.
"""

import hashlib
from typing import Annotated, Any, Literal

from alerts.schema import CONDITION_RE, MAX_ATTRIBUTES_BYTES
from cmms.body_types import canonical_json, checked_json_object, parse_timestamp
from cmms.jsondepth import MAX_JSON_DEPTH

NO_NUL = r"^[^\x00]*$"


def parser(msgspec):
    meta = msgspec.Meta

    class Alert(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
        alert_id: Annotated[str, meta(min_length=1, max_length=128, pattern=NO_NUL)]
        asset: Annotated[str, meta(min_length=1, max_length=64, pattern=NO_NUL)]
        condition: Annotated[str, meta(pattern=f"^{CONDITION_RE.pattern}$")]
        severity: Literal["critical", "major", "minor", "warning"]
        observed_at: Any
        state: Literal["active", "cleared"] = "active"
        value: float | None = None
        unit: Annotated[str, meta(max_length=32, pattern=NO_NUL)] = ""
        threshold: float | None = None
        message: Annotated[str, meta(max_length=2000, pattern=NO_NUL)] = ""
        attributes: dict[str, Any] = {}
        content_hash: str = ""  # a field only because a Struct takes no other attribute

        def __post_init__(self):
            observed_at = parse_timestamp(self.observed_at)
            if observed_at is None:
                raise ValueError("Must be an RFC 3339 timestamp with an offset.")
            self.observed_at = observed_at
            # The same check as the pydantic type (its error is a ValueError too).
            self.attributes = checked_json_object(
                self.attributes, MAX_ATTRIBUTES_BYTES, MAX_JSON_DEPTH
            )
            content = {
                "alert_id": self.alert_id,
                "asset": self.asset,
                "condition": self.condition,
                "severity": self.severity,
                "state": self.state,
                "observed_at": observed_at.isoformat(),
                "value": self.value,
                "unit": self.unit,
                "threshold": self.threshold,
                "message": self.message,
            }
            canonical = (
                canonical_json(content)[:-1] + ',"attributes":' + self.attributes.canonical + "}"
            )
            self.content_hash = hashlib.sha256(canonical.encode()).hexdigest()

    class Batch(msgspec.Struct, forbid_unknown_fields=True):
        alerts: Annotated[list[Alert], meta(min_length=1, max_length=1000)]

    decoder = msgspec.json.Decoder(Batch)
    return lambda body: decoder.decode(body).alerts
