"""Where an endpoint may point: the SSRF rule, checked on create/update and again per attempt.

A URL is http or https with a host; every address the host resolves to must be public
(not private, loopback, link-local, multicast, reserved or unspecified), unless
WEBHOOK_ALLOW_PRIVATE_NETWORKS is set (tests, a plant's own LAN receiver). Plain http is
allowed only together with that setting or DEBUG: a signature proves who sent an event, but
over the Internet only TLS keeps its content private. The sender connects to the address
checked here (`Target.address`), so a DNS answer that changes between the check and the
connection (rebinding) cannot redirect it.
"""

import ipaddress
import logging
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

log = logging.getLogger(__name__)


class UrlRefused(Exception):
    """The URL may not be used; the message says why (safe to show the endpoint's owner)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent in the request line
    address: str  # the checked IP address to connect to


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (tests replace this to play DNS)."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        log.info("Webhook host %s does not resolve: %s", host, exc)
        raise UrlRefused(f"The host {host} does not resolve.") from None
    return list(dict.fromkeys(info[4][0] for info in infos))


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv4 address inside IPv6 (mapped, 6to4, Teredo's client) is judged as itself.
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo and ip.teredo[1])
        if embedded is not None:
            return _is_public(str(embedded)) and (ip.ipv4_mapped is not None or ip.is_global)
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def check_url(url: str) -> Target:
    """The target to connect to for `url`, or UrlRefused saying why."""
    allow_private = settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UrlRefused("Only http and https URLs are allowed.")
    if scheme == "http" and not (allow_private or settings.DEBUG):
        raise UrlRefused("Use https: plain http is allowed only on private networks.")
    if parts.username or parts.password:
        raise UrlRefused("Credentials in the URL are not allowed; the signature authenticates.")
    try:
        host, port = parts.hostname, parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise UrlRefused("The port is not a number between 1 and 65535.") from None
    if not host:
        raise UrlRefused("The URL has no host.")
    addresses = resolve(host, port)
    if not addresses:
        raise UrlRefused(f"The host {host} does not resolve.")
    if not allow_private:
        for address in addresses:
            if not _is_public(address):
                # The address stays in the server's log: answering it would let a user map
                # internal names through this form.
                log.info("Webhook host %s refused: it resolves to %s", host, address)
                raise UrlRefused(
                    f"The host {host} resolves to a private, loopback or reserved address; "
                    "outbound events go to public addresses only."
                )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme, host, port, path, addresses[0])
