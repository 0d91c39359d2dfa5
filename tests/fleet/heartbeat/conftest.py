import pytest

from tests.factories import gateway_with_secret
from tests.webhooks import HeartbeatHook


@pytest.fixture(autouse=True)
def _empty_cache(empty_cache):
    """Every test here starts without rate limit counters (they live in the cache)."""


@pytest.fixture
def heartbeat_hook(site):
    """Signed posts to the heartbeat webhook of a gateway at the site."""
    gateway, secret = gateway_with_secret(site=site)
    return HeartbeatHook(gateway, secret)
