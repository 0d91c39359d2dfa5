"""Two plants, one user per role at the first ("own") plant, and one of each object at both.

The second plant ("foreign") belongs to another customer: nothing of it may be seen,
changed or even proven to exist by the own plant's users.
"""

import pytest

from tests.trust.plants import build_world


@pytest.fixture(autouse=True)
def _fresh_rate_limits(empty_cache):
    """Throttle counters live in the cache: each test starts with none."""


@pytest.fixture
def world(db):
    return build_world()
