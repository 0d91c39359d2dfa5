import pytest

from tests.factories import gateway_with_secret
from tests.webhooks import Hook


@pytest.fixture(autouse=True)
def _empty_cache(empty_cache):
    """Every test here starts without rate limit counters (they live in the cache)."""


@pytest.fixture
def hook(site, pump):
    """Signed posts to the alerts webhook of a gateway at the site (where P-101 stands)."""
    gateway, secret = gateway_with_secret(site=site)
    return Hook(gateway, secret)
