"""Availability from a known sequence of connectivity events (fleet.availability)."""

from datetime import UTC, datetime, timedelta

import pytest

from fleet.availability import Transition, availability, availability_by_gateway
from gateways.models import ConnectivityEvent, Gateway
from tests.factories import GatewayFactory

H = timedelta(hours=1)
START = datetime(2026, 3, 1, tzinfo=UTC)
END = START + 100 * H


def t(hours: float, from_state: str, to_state: str) -> Transition:
    return Transition(START + hours * H, from_state, to_state)


# Seen first at hour 10; late at 30, offline at 31, back online at 41; late at 90 till the end.
SEQUENCE = [
    t(10, "never_seen", "online"),
    t(30, "online", "late"),
    t(31, "late", "offline"),
    t(41, "offline", "online"),
    t(90, "online", "late"),
]


def test_offline_time_is_the_only_downtime_and_never_seen_is_left_out():
    result = availability(SEQUENCE, start=START, end=END)
    assert result.observed == 90 * H  # hours 10 to 100
    assert result.available == 80 * H  # offline from 31 to 41
    assert result.percent == 88.9


def test_a_state_held_from_before_the_period_counts_from_its_start():
    inside = [tr for tr in SEQUENCE if tr.at >= START + 35 * H]
    result = availability(inside, start=START + 35 * H, end=END, state_before="offline")
    assert result.observed == 65 * H
    assert result.available == 59 * H  # offline 35 to 41


def test_without_an_earlier_event_the_first_events_from_state_holds_at_the_start():
    result = availability([t(50, "offline", "online")], start=START, end=END)
    assert (result.observed, result.available) == (100 * H, 50 * H)


def test_without_any_event_the_recorded_state_held_throughout():
    assert availability([], start=START, end=END, state_now="online").percent == 100.0
    assert availability([], start=START, end=END, state_now="offline").percent == 0.0


def test_a_gateway_never_seen_has_no_availability():
    result = availability([], start=START, end=END, state_now="never_seen")
    assert result.observed == timedelta(0)
    assert result.percent is None


@pytest.mark.django_db
def test_many_gateways_are_read_in_two_queries(site, django_assert_num_queries):
    first = GatewayFactory(site=site, name="a")
    second = GatewayFactory(site=site, name="b")
    idle = GatewayFactory(site=site, name="c")
    Gateway.objects.filter(pk=idle.pk).update(connectivity="online")
    idle.refresh_from_db()
    ConnectivityEvent.objects.bulk_create(
        [
            ConnectivityEvent(
                gateway=first, from_state=tr.from_state, to_state=tr.to_state, at=tr.at
            )
            for tr in SEQUENCE
        ]
        + [
            # Before the period: `second` went offline, then came back inside it.
            ConnectivityEvent(
                gateway=second, from_state="online", to_state="offline", at=START - 5 * H
            ),
            ConnectivityEvent(
                gateway=second, from_state="offline", to_state="online", at=START + 25 * H
            ),
        ]
    )
    with django_assert_num_queries(2):
        result = availability_by_gateway([first, second, idle], start=START, end=END)
    assert result[first.pk].percent == 88.9
    assert result[second.pk].percent == 75.0
    assert result[idle.pk].percent == 100.0


@pytest.mark.django_db
def test_sensor_events_do_not_count_for_the_gateway(site):
    from gateways.services import sensor_create

    gateway = GatewayFactory(site=site)
    sensor = sensor_create(gateway=gateway, code="s")
    ConnectivityEvent.objects.create(
        gateway=gateway, sensor=sensor, from_state="live", to_state="stale", at=START + H
    )
    ConnectivityEvent.objects.create(
        gateway=gateway, from_state="never_seen", to_state="online", at=START
    )
    assert availability_by_gateway([gateway], start=START, end=END)[gateway.pk].percent == 100.0
