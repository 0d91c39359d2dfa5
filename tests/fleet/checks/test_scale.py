"""The check costs the same number of queries for 10 gateways as for 100, whether nothing
changed or every gateway went late (bulk writes)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gateways.choices import Connectivity, SensorState
from gateways.models import ConnectivityEvent, Gateway, Sensor
from tests.factories import AssetFactory
from tests.fleet.checks.devices import GRACE, INTERVAL, SECOND, STALE_AFTER, T0


def fleet(site, size):
    pumps = [AssetFactory(site=site) for _ in range(2)]
    gateways = Gateway.objects.bulk_create(
        Gateway(
            site=site,
            name=f"GW-{n}",
            heartbeat_interval_seconds=INTERVAL,
            heartbeat_grace_seconds=GRACE,
            last_seen_at=T0,
            connectivity=Connectivity.ONLINE,
            connectivity_since=T0,
        )
        for n in range(size)
    )
    Sensor.objects.bulk_create(
        Sensor(
            gateway=gateway,
            code=f"s{k}",
            asset=pumps[k],
            stale_after_seconds=STALE_AFTER,
            last_sample_at=T0,
            state=SensorState.LIVE,
            state_since=T0,
        )
        for gateway in gateways
        for k in range(2)
    )


def queries_of_check(clock, at):
    with CaptureQueriesContext(connection) as captured:
        clock.check(at)
    return len(captured)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("silent", "queries"),
    # Find gateways, find sensors, find stale-sensor work to open, two asset updates, and the
    # check's savepoint; going late adds one UPDATE and one INSERT of events.
    [(60, 7), (INTERVAL + 1, 9)],
    ids=["nothing-changes", "all-go-late"],
)
def test_the_check_costs_the_same_queries_for_10_and_100_gateways(clock, site, silent, queries):
    counts = {}
    for size in (10, 100):
        Sensor.objects.all().delete()
        Gateway.objects.all().delete()
        fleet(site, size)
        counts[size] = queries_of_check(clock, T0 + silent * SECOND)
        if silent > INTERVAL:
            assert ConnectivityEvent.objects.filter(to_state="late").count() == size
            ConnectivityEvent.objects.all().delete()

    assert counts == {10: queries, 100: queries}
