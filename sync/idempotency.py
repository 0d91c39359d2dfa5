"""Idempotent requests: a retry with the same `Idempotency-Key` answers as the first request did.

Semantics of the IETF draft "The Idempotency-Key HTTP Header Field" (docs/api.md, "Idempotent
requests"). The technician app queues actions while offline and replays them when the network
returns; a retry must never record work twice, whether the first attempt's answer was lost,
the first attempt is still running, or it crashed.

Exactly once comes from the database, not from a check-then-act: the key row is INSERTed first,
in the same transaction as the action's effects. A concurrent request with the same (user, key)
blocks on the unique index until that transaction ends; if it committed, the insert fails and
the stored answer is replayed; if it rolled back, the insert succeeds and the retry runs.

A refusal (400, 403, 404, 409...) is an answer too: the action's savepoint is rolled back and
the refusal is stored with the key, so a replay refuses the same way even once the state would
let the action succeed. A 500 rolls back everything, the key included: a retry may try again.
"""

import contextlib
import functools
import hashlib
import json

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.http.request import RawPostDataException
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import status
from rest_framework.exceptions import APIException

from sync.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_LENGTH = 255
INVALID_KEY = "An Idempotency-Key is 1 to 255 printable ASCII characters."
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# The one schema declaration of the header; the schema adds the 422 to operations that take it
# (cmms.api.openapi).
KEY_PARAMETER = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Optional: 1 to 255 printable ASCII characters, unique per request you mean (a UUID). "
        "A retry with the same key is not applied again; it answers as the first request did, "
        "with the header `Idempotent-Replayed: true`. The same key with a different request "
        "answers 422 `idempotency_key_reused`. Keys are kept IDEMPOTENCY_KEY_TTL_HOURS hours."
    ),
)


class IdempotencyKeyReused(APIException):
    """The key was already used for a different request (method, path or body): 422."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was already used for a different request."
    default_code = "idempotency_key_reused"


def key_of(request) -> str | None:
    """The request's key (the draft's quoted form or bare), None without the header."""
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    key = raw[1:-1] if len(raw) >= 2 and raw[0] == raw[-1] == '"' else raw
    if not 1 <= len(key) <= MAX_LENGTH or not all(" " <= char <= "~" for char in key):
        raise ValidationError({HEADER: INVALID_KEY})
    return key


def fingerprint_of(request, parsed=None) -> str:
    """SHA-256 over the method, path (with its query), media type and body of a Django request.

    A multipart body is fingerprinted from its parsed fields and files (`parsed()`: pairs of a
    name and its values; the request's form by default) instead: it may be larger than Django
    keeps in memory, and the CSRF check of a session's POST has already read it as a form. So
    is a body whose bytes were read before without being kept.
    """
    digest = hashlib.sha256()
    for part in (request.method, request.get_full_path(), request.content_type or ""):
        digest.update(part.encode())
        digest.update(b"\0")
    body = None
    if request.content_type != "multipart/form-data":
        with contextlib.suppress(RawPostDataException):  # read before, bytes not kept
            body = request.body
    if body is not None:
        digest.update(body)
    else:
        _update_with_form(digest, parsed() if parsed else _django_form(request))
    return digest.hexdigest()


def _django_form(request):
    return [*request.POST.lists(), *request.FILES.lists()]


def _drf_form(request):
    """A DRF request's parsed body as (name, values) pairs: a form's lists, JSON canonically."""
    data = request.data
    if hasattr(data, "lists"):
        return list(data.lists())
    return [("", [json.dumps(data, sort_keys=True, default=str)])]


def _update_with_form(digest, form) -> None:
    for name, values in sorted(form, key=lambda item: item[0]):
        digest.update(name.encode() + b"\0")
        for value in values:
            if hasattr(value, "chunks"):  # an uploaded file: its name and its bytes
                digest.update(f"file:{value.name}\0".encode())
                for chunk in value.chunks():
                    digest.update(chunk)
                value.seek(0)
            else:
                digest.update(f"{value}\0".encode())


def answer_once(*, request, user, key: str, fingerprint: str, run) -> HttpResponse:
    """The answer `run()` gives, recorded under (user, key) in its transaction; or, when the
    key is already recorded, the recorded answer (never running `run` again).

    `run()` must return a rendered response for refusals too (answering them itself) and let
    anything unexpected raise: that, or a 5xx answer, rolls back the key with the effects.
    """
    method, path = request.method, request.get_full_path()
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(
                    user=user, key=key, method=method, path=path, fingerprint=fingerprint
                )
        except IntegrityError:
            return replay(IdempotencyKey.objects.get(user=user, key=key), method, path, fingerprint)
        response = run()
        if response.status_code >= 500:
            transaction.set_rollback(True)
            return response
        record.response_status = response.status_code
        record.response_body = response.content.decode("utf-8", errors="replace")
        record.response_content_type = response.get("Content-Type", "")
        record.response_location = response.get("Location", "")
        record.save(
            update_fields=[
                "response_status",
                "response_body",
                "response_content_type",
                "response_location",
            ]
        )
    return response


def replay(record: IdempotencyKey, method: str, path: str, fingerprint: str) -> HttpResponse:
    """The stored answer, marked as replayed; 422 when the key came with another request."""
    if (record.method, record.path, record.fingerprint) != (method, path, fingerprint):
        raise IdempotencyKeyReused()
    response = HttpResponse(
        record.response_body.encode(),
        status=record.response_status,
        content_type=record.response_content_type or None,
    )
    if record.response_location:
        response["Location"] = record.response_location
    response[REPLAYED_HEADER] = "true"
    return response


def idempotent(action):
    """Make a DRF viewset action honour `Idempotency-Key` (no header: exactly as before).

    The action runs in a savepoint; a refusal is answered by the view's `handle_exception`
    (the API's usual body) and stored, an unexpected error propagates (a 500, no key kept).
    """

    @functools.wraps(action)
    def wrapped(view, request, *args, **kwargs):
        if request.method in SAFE_METHODS:
            return action(view, request, *args, **kwargs)
        key = key_of(request)
        if key is None or not request.user.is_authenticated:
            return action(view, request, *args, **kwargs)
        fingerprint = fingerprint_of(request._request, lambda: _drf_form(request))

        def run():
            try:
                with transaction.atomic():
                    response = action(view, request, *args, **kwargs)
            except Exception as exc:  # handle_exception raises again what is no refusal
                response = view.handle_exception(exc)
            return _rendered(view.finalize_response(request, response, *args, **kwargs))

        return answer_once(
            request=request._request,
            user=request.user,
            key=key,
            fingerprint=fingerprint,
            run=run,
        )

    return wrapped


def idempotent_view(view):
    """Make a plain Django view (the technician pages' POSTs) honour `Idempotency-Key`.

    The page answers its own refusals (a form with errors, a redirect with a message): every
    answer below 500 is stored, status, body and Location (a replayed redirect lands on the
    same page). Pages have no API error body: a bad or reused key is answered in plain text.
    Apply it inside `login_required`, so the user is known.
    """

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method in SAFE_METHODS or not request.user.is_authenticated:
            return view(request, *args, **kwargs)
        try:
            key = key_of(request)
        except ValidationError:
            return HttpResponse(INVALID_KEY, status=400, content_type="text/plain")
        if key is None:
            return view(request, *args, **kwargs)
        try:
            return answer_once(
                request=request,
                user=request.user,
                key=key,
                fingerprint=fingerprint_of(request),
                run=lambda: _rendered(view(request, *args, **kwargs)),
            )
        except IdempotencyKeyReused as exc:
            return HttpResponse(str(exc.detail), status=exc.status_code, content_type="text/plain")

    return wrapped


def _rendered(response):
    """The response with its content (a template or DRF response renders lazily)."""
    return response.render() if hasattr(response, "render") else response
