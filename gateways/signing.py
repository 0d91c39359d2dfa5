"""Standard Webhooks signature verification (https://www.standardwebhooks.com/), our own code;
signing (`sign`) lives in the core (`cmms.signing`), shared with outbound events.

The signed content is `{webhook-id}.{webhook-timestamp}.{raw body}`, the signature is
base64(HMAC-SHA256(key, content)) sent as `v1,<base64>`; the header may hold several
space-separated signatures (one per secret during a rotation). Comparison is constant-time.
"""

import base64
import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping

from cmms.signing import sign

__all__ = ["VerificationError", "sign", "verify"]

TOLERANCE_SECONDS = 300
MAX_ID_LENGTH = 256
MAX_SIGNATURES = 16


class VerificationError(Exception):
    """The request is not signed by any of the keys (the reason is for logs, not clients)."""


def _header_bytes(value: str) -> bytes:
    # WSGI hands headers over as latin-1 decoded strings; this gives back the sent bytes.
    return value.encode("latin-1")


def verify(
    *,
    keys: Iterable[bytes],
    headers: Mapping[str, str],
    body: bytes,
    now: float | None = None,
) -> None:
    """Raise VerificationError unless one signature matches one key within the tolerance.

    `headers` maps lower-case names (webhook-id, webhook-timestamp, webhook-signature)
    to their values.
    """
    msg_id = headers.get("webhook-id") or ""
    raw_timestamp = headers.get("webhook-timestamp") or ""
    signature_header = headers.get("webhook-signature") or ""
    if not msg_id or not raw_timestamp or not signature_header:
        raise VerificationError("missing webhook headers")
    if len(msg_id) > MAX_ID_LENGTH:
        raise VerificationError("webhook-id too long")
    if not raw_timestamp.isascii() or not raw_timestamp.isdigit() or len(raw_timestamp) > 12:
        raise VerificationError("webhook-timestamp is not a number of seconds")
    timestamp = int(raw_timestamp)
    now = time.time() if now is None else now
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        raise VerificationError("webhook-timestamp outside the tolerance")
    try:
        prefix = _header_bytes(msg_id) + b"." + raw_timestamp.encode("ascii") + b"."
    except UnicodeEncodeError:
        raise VerificationError("webhook-id is not latin-1") from None

    candidates = []
    for part in signature_header.split(" ")[:MAX_SIGNATURES]:
        version, _, encoded = part.partition(",")
        if version != "v1" or not encoded:
            continue
        try:
            candidates.append(base64.b64decode(encoded, validate=True))
        except ValueError:
            continue
    if not candidates:
        raise VerificationError("no v1 signature")

    content = prefix + body
    for key in keys:
        expected = hmac.new(key, content, hashlib.sha256).digest()
        for candidate in candidates:
            if hmac.compare_digest(expected, candidate):
                return
    raise VerificationError("no signature matches")
