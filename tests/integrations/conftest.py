import pytest

from integrations import services
from integrations.choices import SUBSCRIBABLE
from tests.integrations.receiver import Receiver


@pytest.fixture(autouse=True)
def _webhook_settings(settings):
    """The receiver listens on loopback; retries are immediate unless a test says otherwise."""
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    settings.WEBHOOK_RETRY_SCHEDULE = [0, 0, 0]
    settings.WEBHOOK_TIMEOUT_SECONDS = 5


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def subscribe(request):
    """subscribe(receiver, types=..., owner=..., sites=...): an endpoint for the receiver,
    whose secret the receiver then verifies with."""

    def make(receiver, *, types=tuple(SUBSCRIBABLE), owner=None, sites=()):
        endpoint, secret = services.endpoint_create(
            owner=owner or request.getfixturevalue("planner"),
            url=receiver.url,
            event_types=list(types),
            sites=sites,
        )
        receiver.secret = secret
        return endpoint

    return make
