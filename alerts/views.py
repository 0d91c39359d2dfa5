"""The gateway webhook: a plain Django view, so the hot path stays lean.

Order of checks: body size (413) and content type (415) without reading the body,
then the signature (401) before anything is parsed or stored, the gateway's rate (429),
the schema of the whole body (400), and one transaction for all alerts (202; 503 while
the database is unavailable).
"""

import logging

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from alerts import ratelimit, services, signing
from alerts.schema import SchemaError, parse_body

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
DB_RETRY_AFTER_SECONDS = 5
SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


def _error(status: int, message: str, *, headers: dict | None = None) -> JsonResponse:
    body = {"errors": [{"index": None, "field": None, "message": message}]}
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


def _declared_length(request) -> int | None:
    raw = request.META.get("CONTENT_LENGTH") or "0"
    try:
        length = int(raw)
    except ValueError:
        return None
    return length if length >= 0 else None


def _is_json(request) -> bool:
    if request.content_type.lower() != "application/json":
        return False
    charset = request.content_params.get("charset")
    return charset is None or charset.lower() in ("utf-8", "utf8")


@csrf_exempt
def gateway_alerts(request, gateway_id: str):
    """POST /hooks/v1/gateways/{gateway_id}/alerts: signed condition alerts from a gateway."""
    if request.method != "POST":
        response = _error(405, "Only POST is allowed.")
        response["Allow"] = "POST"
        return response

    length = _declared_length(request)
    if length is None:
        return _error(400, "Invalid Content-Length header.")
    if length > MAX_BODY_BYTES:
        return _error(413, f"The body must be at most {MAX_BODY_BYTES} bytes.")
    if not _is_json(request):
        return _error(415, "The content type must be application/json (UTF-8).")
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        return _error(413, f"The body must be at most {MAX_BODY_BYTES} bytes.")

    try:
        gateway, keys = services.gateway_for_webhook(gateway_id)
    except (OperationalError, InterfaceError):
        logger.warning("Database unavailable while authenticating a gateway.", exc_info=True)
        return _unavailable()
    if gateway is None:
        logger.info("Webhook refused: unknown or disabled gateway %.64s.", gateway_id)
        return _unauthorized()
    headers = {name: request.headers.get(name, "") for name in SIGNATURE_HEADERS}
    try:
        signing.verify(keys=keys, headers=headers, body=body)
    except signing.VerificationError as exc:
        logger.info("Webhook refused for gateway %s: %s.", gateway.pk, exc)
        return _unauthorized()

    retry_after = ratelimit.check(str(gateway.pk), gateway.effective_rate_limit)
    if retry_after is not None:
        return _error(
            429,
            f"Rate limit of {gateway.effective_rate_limit} requests per minute exceeded.",
            headers={"Retry-After": str(retry_after)},
        )

    try:
        alerts = parse_body(body)
    except SchemaError as exc:
        return JsonResponse({"errors": exc.errors}, status=400)

    now = timezone.now()
    try:
        result = services.alerts_ingest(gateway=gateway, alerts=alerts, now=now)
    except (OperationalError, InterfaceError, services.IngestRaced):
        logger.warning("Alerts of gateway %s not stored; answered 503.", gateway.pk, exc_info=True)
        return _unavailable()
    try:
        services.gateway_touch(gateway=gateway, now=now)
    except (OperationalError, InterfaceError):
        logger.info("Could not record last_seen_at of gateway %s.", gateway.pk)
    return JsonResponse(result.as_json(), status=202)
