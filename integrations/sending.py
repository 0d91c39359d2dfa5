"""One signed POST to an endpoint: pinned to the checked address, short timeouts, no
redirects, the answer read only up to a bound."""

import json
import socket
import threading
import time
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime

import urllib3
from django.conf import settings
from urllib3.connection import HTTPConnection, HTTPSConnection

from cmms import whsec
from cmms.signing import sign
from integrations.urlguard import Target

EXCERPT_BYTES = 1024
USER_AGENT = "cmms-webhooks/1"


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    duration_ms: int
    error: str = ""
    excerpt: str = ""

    def __post_init__(self):
        # PostgreSQL text cannot hold NUL: a receiver's answer must never make the attempt's
        # log row (and so the delivery's settling) fail.
        object.__setattr__(self, "error", self.error.replace("\x00", ""))
        object.__setattr__(self, "excerpt", self.excerpt.replace("\x00", ""))

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def body_for(*, type: str, occurred_at: datetime, data: dict) -> bytes:
    """The Standard Webhooks body: {"type", "timestamp", "data"}."""
    payload = {"type": type, "timestamp": occurred_at.isoformat(), "data": data}
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def signed_headers(*, secret: str, msg_id: str, body: bytes, now: float) -> dict[str, str]:
    timestamp = int(now)
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(
            key=whsec.key_bytes(secret), msg_id=msg_id, timestamp=timestamp, body=body
        ),
    }


class _Watched:
    """The sockets a send opened, so a timer can cut them at the deadline: urllib3's timeouts
    bound each read, not the whole answer (a receiver dripping a byte at a time would hold
    the worker past its lease)."""

    def __init__(self):
        self.sockets: list[socket.socket] = []
        self.cut_off = False

    def connection_class(self, base):
        watched = self

        class Connection(base):
            def connect(self):
                super().connect()
                watched.sockets.append(self.sock)

        return Connection

    def cut(self) -> None:
        self.cut_off = True
        for sock in self.sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _pool(target: Target, watched: _Watched) -> urllib3.HTTPConnectionPool:
    """A pool connecting to the checked address while TLS (SNI and the certificate) and the
    Host header use the name."""
    timeout = urllib3.Timeout(connect=3.0, read=settings.WEBHOOK_TIMEOUT_SECONDS)
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            target.address,
            target.port,
            timeout=timeout,
            retries=False,
            server_hostname=target.host,
            assert_hostname=target.host,
            maxsize=1,
        )
        pool.ConnectionCls = watched.connection_class(HTTPSConnection)
        return pool
    pool = urllib3.HTTPConnectionPool(
        target.address, target.port, timeout=timeout, retries=False, maxsize=1
    )
    pool.ConnectionCls = watched.connection_class(HTTPConnection)
    return pool


def post(*, target: Target, body: bytes, headers: dict[str, str]) -> Answer:
    """POST once, all of it (connect, send, status, headers, the excerpt) within
    WEBHOOK_TIMEOUT_SECONDS; never raises for network trouble (it is the answer's error)."""
    host = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
    started = time.monotonic()
    watched = _Watched()
    pool = _pool(target, watched)
    deadline = threading.Timer(settings.WEBHOOK_TIMEOUT_SECONDS, watched.cut)
    deadline.daemon = True
    deadline.start()
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers={**headers, "host": host},
            redirect=False,
            preload_content=False,
        )
        try:
            excerpt = response.read(EXCERPT_BYTES, decode_content=False)
        finally:
            response.release_conn()
            response.close()
    except Exception as exc:
        return Answer(None, _ms(started), error=f"{type(exc).__name__}: {exc}"[:500])
    finally:
        deadline.cancel()
        pool.close()
    if watched.cut_off:  # what came before the cut is no answer (a status line alone is not)
        limit = settings.WEBHOOK_TIMEOUT_SECONDS
        return Answer(None, _ms(started), error=f"No complete answer within {limit} s.")
    return Answer(
        response.status, _ms(started), excerpt=excerpt.decode("utf-8", "replace")[:EXCERPT_BYTES]
    )


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
