"""The gateway readings webhook: same checks, answers and durability as the alerts webhook.

Body size (413) and content type (415) before reading the body, the signature (401) before
anything is parsed, the gateway's rate (429), the schema (400), then one transaction for all
readings and 202 with a result per reading (503 while the database is unavailable).
"""

import logging

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from pm import hooks
from pm.readings_schema import SchemaError, parse_body
from pm.services import meter_readings_ingest

logger = logging.getLogger(__name__)


@csrf_exempt
def gateway_readings(request, gateway_id: str):
    """POST /hooks/v1/gateways/{gateway_id}/readings: signed meter readings from a gateway."""
    if request.method != "POST":
        response = hooks.error(405, "Only POST is allowed.")
        response["Allow"] = "POST"
        return response
    length = hooks.declared_length(request)
    if length is None:
        return hooks.error(400, "Invalid Content-Length header.")
    if length > hooks.MAX_BODY_BYTES:
        return hooks.error(413, f"The body must be at most {hooks.MAX_BODY_BYTES} bytes.")
    if not hooks.is_json(request):
        return hooks.error(415, "The content type must be application/json (UTF-8).")
    body = request.read(hooks.MAX_BODY_BYTES + 1)
    if len(body) > hooks.MAX_BODY_BYTES:
        return hooks.error(413, f"The body must be at most {hooks.MAX_BODY_BYTES} bytes.")

    try:
        gateway, keys = hooks.gateway_for_webhook(gateway_id)
    except (OperationalError, InterfaceError):
        logger.warning("Database unavailable while authenticating a gateway.", exc_info=True)
        return hooks.unavailable()
    if gateway is None:
        return hooks.unauthorized()
    headers = {name: request.headers.get(name, "") for name in hooks.SIGNATURE_HEADERS}
    try:
        hooks.signing.verify(keys=keys, headers=headers, body=body)
    except hooks.signing.VerificationError as exc:
        logger.info("Readings webhook refused for gateway %s: %s.", gateway.pk, exc)
        return hooks.unauthorized()

    retry_after = hooks.ratelimit.check(str(gateway.pk), gateway.effective_rate_limit)
    if retry_after is not None:
        return hooks.error(
            429,
            f"Rate limit of {gateway.effective_rate_limit} requests per minute exceeded.",
            headers={"Retry-After": str(retry_after)},
        )
    try:
        readings = parse_body(body)
    except SchemaError as exc:
        return JsonResponse({"errors": exc.errors}, status=400)

    now = timezone.now()
    try:
        result = meter_readings_ingest(gateway=gateway, readings=readings, now=now)
    except (OperationalError, InterfaceError):
        logger.warning(
            "Readings of gateway %s not stored; answered 503.", gateway.pk, exc_info=True
        )
        return hooks.unavailable()
    try:
        hooks.gateway_touch(gateway=gateway, now=now)
    except (OperationalError, InterfaceError):
        logger.info("Could not record last_seen_at of gateway %s.", gateway.pk)
    return JsonResponse(result, status=202)
