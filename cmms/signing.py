"""Standard Webhooks signing (https://www.standardwebhooks.com/), our own code.

The signed content is `{webhook-id}.{webhook-timestamp}.{raw body}`, the signature is
base64(HMAC-SHA256(key, content)) sent as `v1,<base64>`. It lives in the core because both
directions use it: gateways sign what they send us (`gateways.signing` verifies) and we sign
what we send integrators (`integrations`).
"""

import base64
import hashlib
import hmac


def sign(*, key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `v1,<base64>` signature of a message."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
