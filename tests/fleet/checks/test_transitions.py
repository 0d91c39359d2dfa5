"""Late, offline and recovered, exactly at the boundaries; each transition recorded once."""

import pytest

from fleet.connectivity import gateway_heard
from gateways.choices import Connectivity
from gateways.models import ConnectivityEvent
from tests.fleet.checks.devices import GRACE, INTERVAL, SECOND, T0, heard

BOUNDARIES = [
    (INTERVAL - 1, Connectivity.ONLINE),
    (INTERVAL, Connectivity.ONLINE),
    (INTERVAL + 1, Connectivity.LATE),
    (INTERVAL + GRACE - 1, Connectivity.LATE),
    (INTERVAL + GRACE, Connectivity.LATE),
    (INTERVAL + GRACE + 1, Connectivity.OFFLINE),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("silent", "expected"), BOUNDARIES)
def test_a_silent_gateway_is_recorded_late_after_its_interval_and_offline_after_its_grace(
    clock, gateway, silent, expected
):
    result = clock.check(T0 + silent * SECOND)

    gateway.refresh_from_db()
    assert gateway.connectivity == expected
    events = list(ConnectivityEvent.objects.values_list("from_state", "to_state", "silent_since"))
    if expected == Connectivity.ONLINE:
        assert events == [] and result.gateways == []
        assert gateway.connectivity_since == T0
    else:
        assert events == [(Connectivity.ONLINE, expected, T0)]
        assert gateway.connectivity_since == clock.now


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("heard_ago", "expected"),
    [(INTERVAL - 1, "online"), (INTERVAL, "online"), (INTERVAL + 1, "late")],
)
def test_an_offline_gateway_heard_again_is_recorded_back_by_the_next_check(
    clock, gateway, heard_ago, expected
):
    clock.check(T0 + 3600 * SECOND)
    now = T0 + 7200 * SECOND
    heard(gateway, now - heard_ago * SECOND)  # an alert or a reading, not a heartbeat

    clock.check(now)

    gateway.refresh_from_db()
    assert gateway.connectivity == expected
    assert list(ConnectivityEvent.objects.order_by("at").values_list("from_state", "to_state")) == [
        ("online", "offline"),
        ("offline", expected),
    ]


@pytest.mark.django_db
def test_the_whole_walk_online_late_offline_online_is_four_events_however_often_it_checks(
    clock, gateway
):
    for seconds in range(0, 2000, 60):
        clock.check(T0 + seconds * SECOND)
    heard(gateway, T0 + 2000 * SECOND)
    for seconds in range(2000, 2200, 60):
        clock.check(T0 + seconds * SECOND)

    transitions = list(
        ConnectivityEvent.objects.order_by("at").values_list("from_state", "to_state")
    )
    assert transitions == [("online", "late"), ("late", "offline"), ("offline", "online")]


@pytest.mark.django_db
def test_a_gateway_never_heard_from_stays_never_seen_and_its_first_sign_of_life_is_an_event(
    clock, site
):
    from tests.fleet.checks.devices import make_gateway

    gateway = make_gateway(site, last_seen_at=None)
    clock.check(T0 + 86400 * SECOND)
    assert ConnectivityEvent.objects.count() == 0

    heard(gateway, T0 + 86400 * SECOND)
    clock.check(T0 + 86401 * SECOND)

    assert list(ConnectivityEvent.objects.values_list("from_state", "to_state")) == [
        ("never_seen", "online")
    ]


@pytest.mark.django_db
def test_an_inactive_gateway_is_not_checked(clock, site):
    from tests.fleet.checks.devices import make_gateway

    make_gateway(site, is_active=False)

    result = clock.check(T0 + 86400 * SECOND)

    assert result.gateways == [] and ConnectivityEvent.objects.count() == 0


@pytest.mark.django_db
def test_gateway_heard_records_the_recovery_at_once_and_only_once(clock, gateway):
    clock.check(T0 + 3600 * SECOND)
    now = clock.at(T0 + 3700 * SECOND)
    heard(gateway, now)

    gateway_heard(gateway=gateway, now=now)
    gateway_heard(gateway=gateway, now=now)
    clock.check(now)

    gateway.refresh_from_db()
    assert (gateway.connectivity, gateway.connectivity_since) == ("online", now)
    assert list(ConnectivityEvent.objects.order_by("at").values_list("from_state", "to_state")) == [
        ("online", "offline"),
        ("offline", "online"),
    ]


@pytest.mark.django_db
def test_gateway_heard_does_nothing_for_an_online_gateway(clock, gateway):
    gateway_heard(gateway=gateway, now=T0)

    assert ConnectivityEvent.objects.count() == 0
