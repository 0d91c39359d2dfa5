import base64
import time
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook

from alerts import gateway_secrets, signing

SECRET = gateway_secrets.generate()
KEY = gateway_secrets.key_bytes(SECRET)
BODY = '{"alert_id": "a-1", "message": "Lager \u00fcberhitzt"}'


def library_headers(body=BODY, *, msg_id="msg_1", when=None, secret=SECRET):
    when = when or datetime.now(tz=UTC)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, when, body),
    }


def test_a_secret_is_whsec_and_base64_of_32_random_bytes():
    assert SECRET.startswith("whsec_")
    assert len(base64.b64decode(SECRET.removeprefix("whsec_"))) == 32
    assert gateway_secrets.generate() != SECRET


def test_secrets_are_encrypted_at_rest_and_decrypt_to_the_same_value():
    token = gateway_secrets.encrypt(SECRET)

    assert SECRET.removeprefix("whsec_") not in token
    assert gateway_secrets.decrypt(token) == SECRET


def test_a_secret_encrypted_under_another_secret_key_is_unreadable(settings):
    token = gateway_secrets.encrypt(SECRET)
    settings.SECRET_KEY = "another-key"

    with pytest.raises(gateway_secrets.SecretUnreadable):
        gateway_secrets.decrypt(token)


def test_secrets_stay_readable_after_a_secret_key_rotation_with_fallbacks(settings):
    old = settings.SECRET_KEY
    token = gateway_secrets.encrypt(SECRET)
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "new-key", [old]

    assert gateway_secrets.decrypt(token) == SECRET


def test_it_verifies_what_the_reference_library_signs():
    signing.verify(keys=[KEY], headers=library_headers(), body=BODY.encode())


def test_it_signs_exactly_like_the_reference_library():
    headers = library_headers()
    ours = signing.sign(
        key=KEY,
        msg_id="msg_1",
        timestamp=int(headers["webhook-timestamp"]),
        body=BODY.encode(),
    )

    assert ours == headers["webhook-signature"]


def test_what_it_verifies_the_reference_library_verifies_too():
    headers = library_headers()

    Webhook(SECRET).verify(BODY, headers)  # raises if the library disagrees


@pytest.mark.parametrize(
    "change",
    [
        {"webhook-id": "msg_2"},
        {"webhook-timestamp": str(int(time.time()) + 1)},
        {"webhook-signature": "v1,"},
        {"webhook-signature": "v2," + base64.b64encode(b"x" * 32).decode()},
        {"webhook-signature": "v1,not base64!"},
        {"webhook-signature": ""},
        {"webhook-id": ""},
        {"webhook-timestamp": "soon"},
        {"webhook-timestamp": "-5"},
        {"webhook-timestamp": "1" * 40},
        {"webhook-id": "m" * 300},
        {"webhook-id": "\u20ac"},
    ],
)
def test_it_refuses_anything_that_was_not_signed_as_sent(change):
    headers = library_headers() | change

    with pytest.raises(signing.VerificationError):
        signing.verify(keys=[KEY], headers=headers, body=BODY.encode())


def test_it_refuses_a_signature_by_another_key():
    with pytest.raises(signing.VerificationError):
        signing.verify(
            keys=[gateway_secrets.key_bytes(gateway_secrets.generate())],
            headers=library_headers(),
            body=BODY.encode(),
        )


def test_it_accepts_any_of_several_keys_and_signatures():
    other = gateway_secrets.generate()
    headers = library_headers(secret=other)
    headers["webhook-signature"] = "v1,AAAA " + headers["webhook-signature"]

    signing.verify(
        keys=[KEY, gateway_secrets.key_bytes(other)], headers=headers, body=BODY.encode()
    )


def test_the_tolerance_is_five_minutes_either_way():
    now = time.time()
    at = datetime.fromtimestamp(int(now), tz=UTC)
    headers = library_headers(when=at)

    signing.verify(keys=[KEY], headers=headers, body=BODY.encode(), now=int(now) + 300)
    signing.verify(keys=[KEY], headers=headers, body=BODY.encode(), now=int(now) - 300)
    with pytest.raises(signing.VerificationError):
        signing.verify(keys=[KEY], headers=headers, body=BODY.encode(), now=int(now) + 301)
    with pytest.raises(signing.VerificationError):
        signing.verify(keys=[KEY], headers=headers, body=BODY.encode(), now=int(now) - 301)
