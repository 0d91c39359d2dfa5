"""Per-gateway fixed-window rate limit in the Django cache (Redis when CACHE_URL is set).

The cache failing must not refuse a gateway's data: the limit then fails open and logs.
"""

import logging
import math
import time

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60


def check(key: str, limit: int, *, now: float | None = None) -> int | None:
    """Count one request; None if allowed, else the seconds until the window ends."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    # The key's prefix predates the gateways app; kept so a deploy does not reset the windows.
    cache_key = f"alerts:rate:{key}:{window}"
    try:
        count = _count(cache_key)
    except ValueError:  # expired between add and incr: this request opens the window
        count = 1
    except Exception:
        logger.warning("Rate limit cache unavailable; allowing the request.", exc_info=True)
        return None
    if count <= limit:
        return None
    return max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))


def _count(cache_key: str) -> int:
    """Increment the window's counter: one round trip on Redis (INCR + EXPIRE NX in a
    pipeline), add + incr on other cache backends."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        key = backend.make_and_validate_key(cache_key)
        client = backend._cache.get_client(key, write=True)
        pipe = client.pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, WINDOW_SECONDS + 5, nx=True)
        count, _ = pipe.execute()
        return count
    cache.add(cache_key, 0, timeout=WINDOW_SECONDS + 5)
    return cache.incr(cache_key)
