import pytest
import time_machine
from django.db import connection
from rest_framework.test import APIClient

from tests.clock import SITE_CLOCKS, real_now, site_wall_time_today, suite_clock

# The shared plant (site, technician, planner, pump, stock, ...): tests/world.py.
pytest_plugins = ["tests.world"]


@pytest.fixture(scope="session", autouse=True)
def _suite_clock():
    """CMMS_TEST_CLOCK=23:55 (or an instant with an offset) runs the whole suite from then."""
    start = suite_clock()
    if start is None:
        yield None
        return
    with time_machine.travel(start, tick=True):
        yield start


@pytest.fixture
def real_clock():
    """The machine's clock for tests that talk to real processes (workers, servers), which
    keep it whatever CMMS_TEST_CLOCK says."""
    if not time_machine.escape_hatch.is_travelling():
        yield
        return
    with time_machine.travel(real_now(), tick=True):
        yield


@pytest.fixture(params=list(SITE_CLOCKS), ids=list(SITE_CLOCKS))
def site_clock(request):
    """Run the test once at midday and once just before midnight at the site (Europe/Berlin),
    on the day nearest the real time, with the clock ticking from there; yields that instant."""
    start = site_wall_time_today(SITE_CLOCKS[request.param])
    with time_machine.travel(start, tick=True):
        yield start


@pytest.fixture
def api():
    """An API client; call api.force_authenticate(user) to act as someone."""
    return APIClient()


@pytest.fixture
def logged_in():
    """logged_in(user): a browser-like test client with that user logged in (admin, pages)."""
    from django.test import Client

    def login(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return login


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hashing with PBKDF2 dominates factory time; tests do not need it to be slow."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_runtest_setup(item):
    """`@pytest.mark.postgresql(reason=...)`: skipped when the tests run on SQLite."""
    marker = item.get_closest_marker("postgresql")
    if marker is not None and connection.vendor != "postgresql":
        pytest.skip(f"needs PostgreSQL: {marker.kwargs['reason']}")
