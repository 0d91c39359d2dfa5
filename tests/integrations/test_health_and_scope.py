"""Endpoints hear only what their owner may see, and are disabled (owner told once) when they
fail for long."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from integrations import delivery
from integrations.choices import DeliveryStatus, EventType
from integrations.models import Delivery, Event, WebhookEndpoint
from tests.factories import WorkOrderFactory

pytestmark = pytest.mark.django_db


def test_an_endpoint_never_receives_events_of_a_site_its_owner_cannot_see(
    site, other_site, receiver, subscribe, django_capture_on_commit_callbacks
):
    subscribe(receiver, types=[EventType.WORK_ORDER_CREATED])  # the planner sees `site` only
    with django_capture_on_commit_callbacks(execute=True):
        WorkOrderFactory(site=other_site)
        mine = WorkOrderFactory(site=site)

    assert [r.verified["data"]["id"] for r in receiver.received] == [mine.pk]
    assert Event.objects.count() == 1


def test_an_endpoint_scoped_to_sites_hears_only_those(
    site, other_site, planner_at_both_sites, receiver, subscribe, django_capture_on_commit_callbacks
):
    subscribe(
        receiver,
        types=[EventType.WORK_ORDER_CREATED],
        owner=planner_at_both_sites,
        sites=[other_site],
    )
    with django_capture_on_commit_callbacks(execute=True):
        WorkOrderFactory(site=site)
        theirs = WorkOrderFactory(site=other_site)

    assert [r.verified["data"]["id"] for r in receiver.received] == [theirs.pk]


@pytest.mark.parametrize("change", ["site_removed", "deactivated", "disabled"])
def test_a_delivery_is_dropped_when_the_owner_lost_the_site_before_it_was_sent(
    site, planner, receiver, subscribe, django_capture_on_commit_callbacks, change
):
    endpoint = subscribe(receiver, types=[EventType.WORK_ORDER_CREATED])
    with django_capture_on_commit_callbacks(execute=False):  # stored, not yet sent
        WorkOrderFactory(site=site)
    if change == "site_removed":
        planner.sites.clear()
    elif change == "deactivated":
        planner.is_active = False
        planner.save()
    else:
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(enabled=False)

    outcome = delivery.delivery_send(delivery_id=Delivery.objects.get().pk)

    assert outcome == "dropped"
    assert receiver.received == []
    dropped = Delivery.objects.get()
    assert dropped.status == DeliveryStatus.FAILED and dropped.last_error


def test_an_endpoint_failing_for_long_is_disabled_and_its_owner_mailed_once(
    settings, site, planner, receiver, subscribe, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_RETRY_SCHEDULE = [3600] * 10
    settings.WEBHOOK_DISABLE_AFTER_HOURS = 24
    endpoint = subscribe(receiver, types=[EventType.WORK_ORDER_CREATED])
    receiver.answers = [500] * 100
    start = timezone.now()
    with time_machine.travel(start, tick=False), django_capture_on_commit_callbacks(execute=True):
        WorkOrderFactory(site=site)
    endpoint.refresh_from_db()
    assert endpoint.failing_since == start and endpoint.enabled

    for hours in (1, 2, 23, 25, 26):
        at = start + timedelta(hours=hours, seconds=1)
        with time_machine.travel(at, tick=False), django_capture_on_commit_callbacks(execute=True):
            delivery.deliveries_sweep()
            delivery.deliveries_sweep()

    endpoint.refresh_from_db()
    assert not endpoint.enabled and endpoint.disabled_at and "24 hours" in endpoint.disabled_reason
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [planner.email] and endpoint.url in mail.outbox[0].body
    assert Delivery.objects.get().status == DeliveryStatus.FAILED
    assert len(receiver.received) == 5  # start, +1 h, +2 h, +23 h, +25 h: then disabled
    WorkOrderFactory(site=site)
    assert Event.objects.count() == 1  # a disabled endpoint gets no new events


def test_a_success_clears_the_endpoints_failure(
    site, receiver, subscribe, django_capture_on_commit_callbacks
):
    endpoint = subscribe(receiver, types=[EventType.WORK_ORDER_CREATED])
    receiver.answers = [500]
    with django_capture_on_commit_callbacks(execute=True):
        WorkOrderFactory(site=site)

    endpoint.refresh_from_db()
    assert endpoint.failing_since is None and endpoint.enabled
