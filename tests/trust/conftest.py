"""Two plants, one user per role at the first ("own") plant, and one of each object at both.

The second plant ("foreign") belongs to another customer: nothing of it may be seen,
changed or even proven to exist by the own plant's users.
"""

import pytest
from django.db import transaction

from tests.trust.plants import build_world


@pytest.fixture(autouse=True)
def _fresh_rate_limits(empty_cache):
    """Throttle counters live in the cache: each test starts with none."""


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture(scope="module")
def module_world(django_db_setup, django_db_blocker):
    """One world for a whole module of many small tests (the authorization matrix runs
    thousands): built once in a transaction that is rolled back after the module. Each test
    still runs in its own savepoint (pytest-django's `db`, as `world` below), so whatever a
    test writes is undone before the next one and the world is the same for every test.
    Not for transactional tests, which would commit and flush around it."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)
