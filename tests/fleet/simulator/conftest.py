"""A gateway at the North plant watching P-101 (with its running-hours meter) and the test
client as the simulator's transport, so its signed requests reach the real webhooks."""

import pytest

from fleet.simulator import SensorSpec
from tests.factories import AssetFactory, MeterFactory, gateway_with_secret


@pytest.fixture(autouse=True)
def _empty_cache(empty_cache):
    """Rate limit counters live in the cache: each test starts without any."""


@pytest.fixture
def watched(site, pump):
    """P-101 with its running-hours meter, and a second pump P-102."""
    meter = MeterFactory(asset=pump)
    other = AssetFactory(site=site, parent=pump.parent, tag="P-102", name="Spare pump")
    return {"pump": pump, "meter": meter, "other": other}


@pytest.fixture
def gateway_and_secret(site, watched):
    return gateway_with_secret(site=site)


@pytest.fixture
def sensors():
    return [
        SensorSpec("vib-01", "P-101", "vibration", "hours", 1200.0),
        SensorSpec("temp-02", "P-102", "temperature"),
    ]
