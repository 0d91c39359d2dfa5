"""The signed-ingestion boundary: every gateway webhook is one `signed_ingestion_view`.

A plain Django view, so the hot path stays lean. The order of checks is part of the contract:
method (405), declared body size (400, 413) and content type (415) without reading the body,
the body itself (413), the gateway and its signature (401, one answer for every reason; 503
while the database is unavailable) before anything is parsed or stored, the gateway's rate
(429), the schema of the whole body (400), then the ingest service in one transaction (202
with its result; 503 when it should be retried later).
"""

import logging
from datetime import datetime

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from cmms.bodies import BodyInvalid, body_error
from gateways.channels import MAX_BODY_BYTES, Channel
from gateways.models import Gateway
from gateways.services import GatewayRateExceeded, GatewayRefused, gateway_admit, gateway_touch

logger = logging.getLogger(__name__)

DB_RETRY_AFTER_SECONDS = 5
SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
DATABASE_DOWN = (OperationalError, InterfaceError)


def _error(status: int, message: str, *, headers: dict | None = None) -> JsonResponse:
    """The pinned error answer with one message that concerns no item and no field."""
    body = {"errors": [body_error(None, None, message)]}
    return JsonResponse(body, status=status, headers=headers)


def _unauthorized() -> JsonResponse:
    # One answer for every reason, so gateway ids and secrets cannot be probed.
    return _error(401, "Invalid or missing webhook signature.")


def _unavailable() -> JsonResponse:
    return _error(
        503,
        "The service is temporarily unavailable; retry later.",
        headers={"Retry-After": str(DB_RETRY_AFTER_SECONDS)},
    )


def _too_large() -> JsonResponse:
    return _error(413, f"The body must be at most {MAX_BODY_BYTES} bytes.")


def _declared_length(request: HttpRequest) -> int | None:
    raw = request.META.get("CONTENT_LENGTH") or "0"
    try:
        length = int(raw)
    except ValueError:
        return None
    return length if length >= 0 else None


def _is_json(request: HttpRequest) -> bool:
    if request.content_type.lower() != "application/json":
        return False
    charset = request.content_params.get("charset")
    return charset is None or charset.lower() in ("utf-8", "utf8")


def _refuse_before_reading(request: HttpRequest) -> JsonResponse | None:
    """The answer to a request refused on its method and headers alone, or None."""
    if request.method != "POST":
        response = _error(405, "Only POST is allowed.")
        response["Allow"] = "POST"
        return response
    length = _declared_length(request)
    if length is None:
        return _error(400, "Invalid Content-Length header.")
    if length > MAX_BODY_BYTES:
        return _too_large()
    if not _is_json(request):
        return _error(415, "The content type must be application/json (UTF-8).")
    return None


def _admit(request: HttpRequest, gateway_id: str, body: bytes) -> Gateway | JsonResponse:
    """The gateway that signed the request and is within its rate, or the refusal."""
    headers = {name: request.headers.get(name, "") for name in SIGNATURE_HEADERS}
    try:
        return gateway_admit(gateway_id=gateway_id, headers=headers, body=body)
    except DATABASE_DOWN:
        logger.warning("Database unavailable while authenticating a gateway.", exc_info=True)
        return _unavailable()
    except GatewayRefused:
        return _unauthorized()
    except GatewayRateExceeded as exc:
        return _error(429, str(exc), headers={"Retry-After": str(exc.retry_after)})


def _touch(gateway: Gateway, now: datetime) -> None:
    try:
        gateway_touch(gateway=gateway, now=now)
    except DATABASE_DOWN:
        logger.info("Could not record last_seen_at of gateway %s.", gateway.pk)


def signed_ingestion_view(channel: Channel):
    """The webhook view of `channel` (gateways.channels): its `parse_body` turns the raw body
    into items, its `ingest(gateway=, items=, now=)` stores them and returns the 202 answer.

    The database being unavailable, or any of the channel's `retry_later` raised by the ingest
    service, answers 503 with Retry-After.
    """
    parse_body, ingest, name = channel.parse_body, channel.ingest, channel.name
    retry = (*DATABASE_DOWN, *channel.retry_later)

    @csrf_exempt
    def view(request: HttpRequest, gateway_id: str) -> JsonResponse:
        refused = _refuse_before_reading(request)
        if refused is not None:
            return refused
        body = request.read(MAX_BODY_BYTES + 1)
        if len(body) > MAX_BODY_BYTES:
            return _too_large()
        gateway = _admit(request, gateway_id, body)
        if isinstance(gateway, JsonResponse):
            return gateway
        try:
            items = parse_body(body)
        except BodyInvalid as exc:
            return JsonResponse({"errors": exc.errors}, status=400)
        now = timezone.now()
        try:
            result = ingest(gateway=gateway, items=items, now=now)
        except retry:
            logger.warning(
                "%s of gateway %s not stored; answered 503.",
                name.capitalize(),
                gateway.pk,
                exc_info=True,
            )
            return _unavailable()
        _touch(gateway, now)
        return JsonResponse(result, status=202)

    return view
