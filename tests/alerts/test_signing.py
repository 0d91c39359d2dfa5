import base64
import time
from datetime import UTC, datetime

import pytest
import time_machine
from standardwebhooks.webhooks import Webhook

from gateways import gateway_secrets, signing

SECRET = gateway_secrets.generate()
KEY = gateway_secrets.key_bytes(SECRET)
BODY = '{"alert_id": "a-1", "message": "Lager \u00fcberhitzt"}'
# Every test runs at this instant: the signatures carry a timestamp checked against the clock.
FIXED_NOW = 1_750_000_000


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(FIXED_NOW, tick=False):
        yield


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
        {"webhook-timestamp": str(FIXED_NOW + 1)},
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


# --------------------------------------------------------------------------- exact limits
# Fixed inputs and signatures computed independently (hmac + base64 here, not signing.sign).

FIXED_KEY = b"k" * 32
FIXED_BODY = b'{"alert_id":"a-1"}'


def reference_signature(msg_id_bytes: bytes, timestamp: int = FIXED_NOW, body=FIXED_BODY):
    import hashlib
    import hmac

    content = msg_id_bytes + b"." + str(timestamp).encode() + b"." + body
    return base64.b64encode(hmac.new(FIXED_KEY, content, hashlib.sha256).digest()).decode()


def fixed_headers(msg_id="msg_1", signature=None, timestamp=str(FIXED_NOW)):
    if signature is None:
        signature = "v1," + reference_signature(msg_id.encode("latin-1"))
    return {"webhook-id": msg_id, "webhook-timestamp": timestamp, "webhook-signature": signature}


def verify_fixed(headers, body=FIXED_BODY, now=FIXED_NOW):
    signing.verify(keys=[FIXED_KEY], headers=headers, body=body, now=now)


def refusal(headers, body=FIXED_BODY, now=FIXED_NOW) -> str:
    with pytest.raises(signing.VerificationError) as refused:
        verify_fixed(headers, body, now)
    return str(refused.value)


def test_a_signature_computed_independently_verifies():
    verify_fixed(fixed_headers())


def test_a_truncated_signature_does_not_verify():
    digest = base64.b64decode(reference_signature(b"msg_1"))
    for length in (1, 16, 31):
        truncated = "v1," + base64.b64encode(digest[:length]).decode()
        assert refusal(fixed_headers(signature=truncated)) == "no signature matches"


def test_a_signature_with_extra_bytes_does_not_verify():
    digest = base64.b64decode(reference_signature(b"msg_1"))
    longer = "v1," + base64.b64encode(digest + b"\x00").decode()
    assert refusal(fixed_headers(signature=longer)) == "no signature matches"


@pytest.mark.parametrize("label", ["v2", "v1a", "V1", "v0", "", "v1 "])
def test_a_correct_hmac_under_any_label_but_v1_is_refused(label):
    signature = f"{label}," + reference_signature(b"msg_1")
    assert refusal(fixed_headers(signature=signature)) in (
        "no v1 signature",
        "no signature matches",
    )


def test_a_correct_hmac_labelled_v2_is_no_v1_signature():
    signature = "v2," + reference_signature(b"msg_1")
    assert refusal(fixed_headers(signature=signature)) == "no v1 signature"


def test_a_webhook_id_of_exactly_256_characters_is_accepted():
    verify_fixed(fixed_headers(msg_id="m" * 256))


def test_a_webhook_id_of_257_characters_is_refused_as_too_long():
    assert refusal(fixed_headers(msg_id="m" * 257)) == "webhook-id too long"


def test_the_sixteenth_signature_is_still_read():
    wrong = "v1," + base64.b64encode(b"w" * 32).decode()
    header = " ".join([wrong] * 15 + ["v1," + reference_signature(b"msg_1")])
    verify_fixed(fixed_headers(signature=header))


def test_a_signature_after_the_sixteenth_is_ignored():
    wrong = "v1," + base64.b64encode(b"w" * 32).decode()
    header = " ".join([wrong] * 16 + ["v1," + reference_signature(b"msg_1")])
    assert refusal(fixed_headers(signature=header)) == "no signature matches"


def test_a_non_ascii_webhook_id_is_checked_over_the_bytes_that_were_sent():
    # The sender signs the UTF-8 bytes of "prüfung-1"; WSGI hands them over decoded as latin-1.
    sent = "prüfung-1".encode()
    received = sent.decode("latin-1")
    verify_fixed(fixed_headers(msg_id=received, signature="v1," + reference_signature(sent)))


def test_a_webhook_id_that_cannot_have_come_over_http_is_refused_cleanly():
    headers = fixed_headers(msg_id="\u20ac-1", signature="v1," + reference_signature(b"x"))
    assert refusal(headers) == "webhook-id is not latin-1"


@pytest.mark.parametrize(
    ("timestamp", "reason"),
    [
        ("\u0661\u0667\u0665\u0660\u0660\u0660\u0660\u0660\u0660\u0660", "not a number"),
        ("1" * 13, "not a number"),
        ("+1750000000", "not a number"),
        ("", "missing"),
    ],
)
def test_a_timestamp_that_is_not_plain_ascii_seconds_is_refused(timestamp, reason):
    assert reason in refusal(fixed_headers(timestamp=timestamp))


def test_a_timestamp_of_twelve_digits_is_read_and_then_outside_the_tolerance():
    assert refusal(fixed_headers(timestamp="100000000000")) == (
        "webhook-timestamp outside the tolerance"
    )


def test_a_leading_zero_timestamp_within_twelve_digits_verifies():
    # "01750000000" is the same second; the signature covers the digits as sent.
    signature = "v1," + reference_signature(b"msg_1", timestamp="0" + str(FIXED_NOW))
    verify_fixed(fixed_headers(timestamp="0" + str(FIXED_NOW), signature=signature))


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_each_missing_header_is_named_as_missing(missing):
    headers = fixed_headers()
    del headers[missing]
    assert refusal(headers) == "missing webhook headers"


def test_the_tolerance_boundary_is_exactly_300_seconds():
    verify_fixed(fixed_headers(), now=FIXED_NOW + 300)
    verify_fixed(fixed_headers(), now=FIXED_NOW - 300)
    assert refusal(fixed_headers(), now=FIXED_NOW + 301) == (
        "webhook-timestamp outside the tolerance"
    )
    assert refusal(fixed_headers(), now=FIXED_NOW - 301) == (
        "webhook-timestamp outside the tolerance"
    )


def test_without_a_clock_given_it_uses_the_current_time():
    signing.verify(keys=[FIXED_KEY], headers=fixed_headers(), body=FIXED_BODY)
    with (
        time_machine.travel(FIXED_NOW + 301, tick=False),
        pytest.raises(signing.VerificationError, match="outside the tolerance"),
    ):
        signing.verify(keys=[FIXED_KEY], headers=fixed_headers(), body=FIXED_BODY)


def test_a_changed_body_does_not_verify():
    assert refusal(fixed_headers(), body=FIXED_BODY + b" ") == "no signature matches"


@pytest.mark.parametrize("first", ["v1,!!!", "v2,AAAA", "v1,", "nonsense"])
def test_a_signature_that_is_not_v1_base64_is_skipped_and_a_later_good_one_verifies(first):
    header = f"{first} v1," + reference_signature(b"msg_1")
    verify_fixed(fixed_headers(signature=header))


def test_an_empty_v1_signature_is_no_v1_signature():
    assert refusal(fixed_headers(signature="v1,")) == "no v1 signature"


def test_the_second_key_is_tried_after_the_first():
    signing.verify(
        keys=[b"other-key", FIXED_KEY], headers=fixed_headers(), body=FIXED_BODY, now=FIXED_NOW
    )


def test_sign_produces_the_independently_computed_signature():
    assert signing.sign(key=FIXED_KEY, msg_id="msg_1", timestamp=FIXED_NOW, body=FIXED_BODY) == (
        "v1," + reference_signature(b"msg_1")
    )


@pytest.mark.parametrize("junk", ["!", "*", "\u00e9", "-", "_"])
def test_a_correct_signature_with_characters_outside_base64_mixed_in_is_refused(junk):
    encoded = reference_signature(b"msg_1")
    mixed = encoded[:10] + junk + encoded[10:]
    assert refusal(fixed_headers(signature="v1," + mixed)) == "no v1 signature"
