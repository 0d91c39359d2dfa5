"""The client's address, the one key of every per-client limit (login lockout, API throttle).

Behind a reverse proxy REMOTE_ADDR is the proxy's address, shared by every client; the
client's own address is in a header the proxy writes. Only the header configured as trusted
(`CLIENT_IP_HEADERS`, from TRUSTED_PROXY_HEADER) is read, and in it only the entry the trusted
proxies wrote (`CLIENT_IP_PROXY_COUNT` hops from the right): entries to its left came from
the client and are ignored. Without a configured proxy no forwarding header is read at all,
since a client could put any address there to dodge a limit. Parsing is django-ipware's.
"""

from django.conf import settings
from ipware import get_client_ip


def client_ip(request) -> str | None:
    """The calling client's IP address, as the trusted proxy (or the connection) reports it."""
    address, _routable = get_client_ip(
        request,
        proxy_count=settings.CLIENT_IP_PROXY_COUNT,
        request_header_order=settings.CLIENT_IP_HEADERS,
        # Not strict: a chain longer than the trusted proxies (a client's own header, which
        # they append to) must still yield the entry they wrote, not fall back to REMOTE_ADDR.
        strict=False,
    )
    return address
