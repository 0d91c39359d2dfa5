"""A gateway at the North plant watching the pump P-101 through one sensor, under a clock the
tests move (tests/fleet/checks/devices.py)."""

import pytest
import time_machine

from tests.factories import TechnicianFactory
from tests.fleet.checks.devices import T0, Clock, make_gateway, make_sensor


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield Clock(traveller)


@pytest.fixture
def gateway(clock, site):
    return make_gateway(site)


@pytest.fixture
def sensor(gateway, pump):
    return make_sensor(gateway, asset=pump)


@pytest.fixture
def iiot_technician(site):
    """ivan, the technician with the fleet skill (FLEET_SKILL, "iiot")."""
    return TechnicianFactory(username="ivan", sites=[site], skills=["iiot"])
