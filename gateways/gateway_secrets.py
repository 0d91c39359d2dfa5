"""Gateway signing secrets: generation and encryption at rest, through `cmms.whsec`.

The HMAC of Standard Webhooks needs the key itself, so a secret cannot be stored as a
one-way hash; `cmms.whsec` encrypts it under a key derived from SECRET_KEY (and its fallbacks).
"""

from cmms.whsec import PREFIX, SecretUnreadable, fingerprint, generate, key_bytes
from cmms.whsec import decrypt as _decrypt
from cmms.whsec import encrypt as _encrypt

__all__ = [
    "PREFIX",
    "SecretUnreadable",
    "decrypt",
    "encrypt",
    "fingerprint",
    "generate",
    "key_bytes",
]

# The label names the app that first stored secrets; changing it would make every stored
# secret unreadable, so it stays "alerts" although gateways own the secrets now.
LABEL = b"cmms.alerts.gateway-secret.v1"


def encrypt(secret: str) -> str:
    return _encrypt(secret, label=LABEL)


def decrypt(token: str) -> str:
    return _decrypt(token, label=LABEL)
