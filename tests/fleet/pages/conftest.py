"""Gateways and sensors at the North plant, with health set as the heartbeat would leave it."""

from datetime import timedelta

import pytest

from gateways.services import sensor_create
from tests.factories import AssetFactory, GatewayFactory
from tests.fleet.pages.devices import seen


@pytest.fixture
def gateway(site):
    """GW-01 at North, heard a minute ago: online."""
    return seen(
        GatewayFactory(site=site, name="GW-01"),
        timedelta(minutes=1),
        firmware="2.4.1",
        battery_percent=81,
        signal_dbm=-71,
        uptime_seconds=3600,
    )


@pytest.fixture
def foreign_gateway(other_site):
    return GatewayFactory(site=other_site, name="GW-S1")


@pytest.fixture
def foreign_asset(other_site):
    return AssetFactory(site=other_site, tag="S-1")


@pytest.fixture
def sensor(gateway, pump):
    return sensor_create(
        gateway=gateway, code="vib-1", measures="vibration", unit="mm/s", asset=pump
    )
