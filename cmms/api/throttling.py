"""API rate limits keyed on the client's address as the trusted proxy reports it."""

from rest_framework import throttling

from cmms.client_ip import client_ip


class ClientAddressMixin:
    """DRF's own lookup believes any X-Forwarded-For; ours reads only the trusted header."""

    def get_ident(self, request):
        return client_ip(request) or ""


class AnonRateThrottle(ClientAddressMixin, throttling.AnonRateThrottle):
    """Anonymous calls per client address."""


class UserRateThrottle(ClientAddressMixin, throttling.UserRateThrottle):
    """Calls per user or token (per client address for anonymous calls)."""
