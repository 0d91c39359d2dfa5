"""Adapter to the gateway webhook machinery of `alerts` (signature, rate limit, error answers).

The readings webhook follows the alerts webhook's rules exactly, so it uses the same
pieces; the request-shape helpers are private in `alerts.views`, so they are named here once
and the readings view does not reach into another app's private names anywhere else.
"""

from alerts import ratelimit, signing
from alerts import views as alert_views
from alerts.services import gateway_for_webhook, gateway_touch
from cmms.body_types import parse_timestamp

MAX_BODY_BYTES = alert_views.MAX_BODY_BYTES
SIGNATURE_HEADERS = alert_views.SIGNATURE_HEADERS
error = alert_views._error
unauthorized = alert_views._unauthorized
unavailable = alert_views._unavailable
declared_length = alert_views._declared_length
is_json = alert_views._is_json

__all__ = [
    "MAX_BODY_BYTES",
    "SIGNATURE_HEADERS",
    "declared_length",
    "error",
    "gateway_for_webhook",
    "gateway_touch",
    "is_json",
    "parse_timestamp",
    "ratelimit",
    "signing",
    "unauthorized",
    "unavailable",
]
