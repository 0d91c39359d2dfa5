"""The admin tests run on two plants, plant_a and plant_b (tests/world.py: Plant)."""

import pytest


@pytest.fixture
def planner_client(client, plant_a):
    """The test client logged in as plant_a's planner."""
    client.force_login(plant_a.planner)
    return client
