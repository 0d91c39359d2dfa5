"""The API tests speak of site A (the user's, the North plant) and site B (the South plant).

planner, technician, viewer, superuser and as_user are the shared ones of tests/world.py.
"""

import pytest


@pytest.fixture
def site_a(site):
    return site


@pytest.fixture
def site_b(other_site):
    return other_site
