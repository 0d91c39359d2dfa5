"""The gateway rate limit on a real Redis cache: one round trip per request, shared counters."""

import os
import uuid

import pytest
import redis
from django.core.cache import caches

from gateways import ratelimit

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_cache(settings):
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.ConnectionError:  # pragma: no cover - CI always has Redis
        if os.environ.get("CI"):
            raise
        pytest.skip("no Redis at TEST_REDIS_URL")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
    }
    yield caches["default"]
    caches["default"].clear()


def test_the_limit_counts_in_redis_and_answers_the_seconds_left(redis_cache):
    key = uuid.uuid4().hex
    now = 1_000_040.0  # 20 s into a window (windows start at multiples of 60 s)
    assert [ratelimit.check(key, 3, now=now) for _ in range(3)] == [None, None, None]
    assert ratelimit.check(key, 3, now=now) == 40
    assert ratelimit.check(key, 3, now=now + 40) is None  # the next window


def test_the_window_counter_expires_with_its_window(redis_cache):
    key = uuid.uuid4().hex
    ratelimit.check(key, 10, now=1_000_020.0)
    window_key = redis_cache.make_and_validate_key(f"alerts:rate:{key}:{1_000_020 // 60}")
    ttl = redis.Redis.from_url(REDIS_URL).ttl(window_key)
    assert 0 < ttl <= ratelimit.WINDOW_SECONDS + 5
