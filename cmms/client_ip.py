"""The client's address, the one key of every per-client limit (login lockout, API throttle).

Behind a reverse proxy REMOTE_ADDR is the proxy's address, shared by every client; the
client's own address is in a header the proxy writes. Only the header configured as trusted
(`CLIENT_IP_HEADERS`, from TRUSTED_PROXY_HEADER) is read, and in it only the one entry the
trusted proxies wrote: the last one, or `CLIENT_IP_PROXY_COUNT` entries further left when more
proxies append to it. Entries to its left came from the client and are never looked at, not
even when the trusted entry is unreadable: then the connection's address counts. Without a
configured proxy no forwarding header is read at all, since a client could put any address
there to dodge a limit.

The header is split here, on commas only: a general parser that honours quotes let a client's
unclosed `"` swallow the entry the proxy appended, and so choose its own address.
"""

import ipaddress

from django.conf import settings


def client_ip(request) -> str | None:
    """The calling client's IP address, as the trusted proxy (or the connection) reports it."""
    remote = request.META.get("REMOTE_ADDR") or None
    header = settings.CLIENT_IP_HEADERS[0]
    if header == "REMOTE_ADDR":
        return remote
    entries = request.META.get(header, "").split(",")
    position = settings.CLIENT_IP_PROXY_COUNT + 1
    if len(entries) < position:
        return remote
    try:
        return str(ipaddress.ip_address(entries[-position].strip()))
    except ValueError:
        return remote
