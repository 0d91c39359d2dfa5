"""Standard Webhooks secrets (`whsec_<base64>`): generation and encryption at rest.

The HMAC needs the key itself, so a secret cannot be stored as a one-way hash. It is encrypted
with Fernet (AES-128-CBC + HMAC-SHA256) under a key derived from SECRET_KEY (and
SECRET_KEY_FALLBACKS, so rotating SECRET_KEY keeps existing secrets readable) and a label per
kind of secret, so a gateway's ciphertext never decrypts as an integrator's and back.
Gateways' secrets (`gateways.gateway_secrets`) and outbound endpoints' (`integrations`) use it.
"""

import base64
import hashlib
import hmac
import secrets
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

PREFIX = "whsec_"
KEY_BYTES = 32


class SecretUnreadable(Exception):
    """The stored secret cannot be decrypted (SECRET_KEY changed without a fallback)."""


def generate() -> str:
    """A new secret: whsec_ + base64 of 32 random bytes (Standard Webhooks format)."""
    return PREFIX + base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def key_bytes(secret: str) -> bytes:
    """The HMAC key of a whsec_ secret."""
    return base64.b64decode(secret.removeprefix(PREFIX))


def fingerprint(secret: str) -> str:
    """A short, non-reversible id of a secret, to tell secrets apart in admin and API."""
    return hashlib.sha256(secret.encode("ascii")).hexdigest()[:12]


def _derive(django_key: str, label: bytes) -> bytes:
    raw = hmac.new(django_key.encode("utf-8"), label, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(raw)


@lru_cache(maxsize=8)
def _fernet(keys: tuple[str, ...], label: bytes) -> MultiFernet:
    return MultiFernet([Fernet(_derive(key, label)) for key in keys])


def _current_fernet(label: bytes) -> MultiFernet:
    keys = (settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ()))
    return _fernet(tuple(keys), label)


def encrypt(secret: str, *, label: bytes) -> str:
    return _current_fernet(label).encrypt(secret.encode("ascii")).decode("ascii")


def decrypt(token: str, *, label: bytes) -> str:
    try:
        return _current_fernet(label).decrypt(token.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise SecretUnreadable("A stored secret cannot be decrypted with SECRET_KEY.") from None
