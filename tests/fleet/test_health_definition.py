"""One definition of online/late/offline/never_seen: the Python function and the database
annotation agree at and around every boundary."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from gateways.choices import Connectivity
from gateways.health import connectivity_at, gateway_connectivity
from gateways.models import Gateway

INTERVAL, GRACE = 300, 600
SECOND = timedelta(seconds=1)
MICRO = timedelta(microseconds=1)

CASES = [
    (None, Connectivity.NEVER_SEEN),
    (timedelta(0), Connectivity.ONLINE),
    (INTERVAL * SECOND, Connectivity.ONLINE),
    (INTERVAL * SECOND + MICRO, Connectivity.LATE),
    ((INTERVAL + GRACE) * SECOND, Connectivity.LATE),
    ((INTERVAL + GRACE) * SECOND + MICRO, Connectivity.OFFLINE),
    (timedelta(days=30), Connectivity.OFFLINE),
]


@pytest.mark.parametrize(("silent", "expected"), CASES)
def test_the_function_draws_the_boundaries_at_interval_and_interval_plus_grace(silent, expected):
    now = timezone.now()
    last_seen = None if silent is None else now - silent
    state = connectivity_at(
        last_seen_at=last_seen, interval_seconds=INTERVAL, grace_seconds=GRACE, now=now
    )
    assert state == expected


@pytest.mark.django_db
def test_the_database_annotation_agrees_with_the_function(site):
    now = timezone.now().replace(microsecond=500_000)
    gateways = {}
    with time_machine.travel(now, tick=False):
        for n, (silent, _) in enumerate(CASES):
            gateways[n] = Gateway.objects.create(
                site=site,
                name=f"gw{n}",
                heartbeat_interval_seconds=INTERVAL,
                heartbeat_grace_seconds=GRACE,
                last_seen_at=None if silent is None else now - silent,
            )
    annotated = dict(Gateway.objects.with_connectivity(now).values_list("name", "status"))
    for n, (_, expected) in enumerate(CASES):
        assert annotated[f"gw{n}"] == expected, CASES[n]
        assert gateway_connectivity(gateways[n], now) == expected


@pytest.mark.django_db
def test_a_gateway_recorded_offline_after_its_last_sign_of_life_stays_offline_until_heard(site):
    """A Sparkplug NDEATH records a gateway offline seconds after it last spoke: the function
    and the annotation both keep it offline until its next sign of life."""
    now = timezone.now()
    died = Gateway.objects.create(
        site=site,
        name="died",
        heartbeat_interval_seconds=INTERVAL,
        heartbeat_grace_seconds=GRACE,
        last_seen_at=now - 5 * SECOND,
        connectivity=Connectivity.OFFLINE,
        connectivity_since=now - 4 * SECOND,
    )
    heard_since = Gateway.objects.create(
        site=site,
        name="heard since",
        heartbeat_interval_seconds=INTERVAL,
        heartbeat_grace_seconds=GRACE,
        last_seen_at=now - 3 * SECOND,
        connectivity=Connectivity.OFFLINE,
        connectivity_since=now - 4 * SECOND,
    )
    annotated = dict(Gateway.objects.with_connectivity(now).values_list("name", "status"))
    assert annotated == {"died": Connectivity.OFFLINE, "heard since": Connectivity.ONLINE}
    assert gateway_connectivity(died, now) == Connectivity.OFFLINE
    assert gateway_connectivity(heard_since, now) == Connectivity.ONLINE
