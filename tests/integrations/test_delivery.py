"""Outbound events reach a local receiver signed, once, in order, with retries and backoff."""

from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from cmms.errors import ConflictError
from integrations import delivery
from integrations.choices import DeliveryStatus, EventType
from integrations.models import Delivery, DeliveryAttempt, Event
from tests.factories import WorkOrderFactory
from workorders import services as wo_services
from workorders.choices import Status

pytestmark = pytest.mark.django_db


def test_an_event_arrives_signed_and_verifies_with_the_standardwebhooks_library(
    site, receiver, subscribe, django_capture_on_commit_callbacks
):
    subscribe(receiver, types=[EventType.WORK_ORDER_CREATED])
    with django_capture_on_commit_callbacks(execute=True):
        work_order = WorkOrderFactory(site=site)

    [got] = receiver.received
    event = Event.objects.get()
    assert got.verified == {
        "type": "work_order.created",
        "timestamp": event.occurred_at.isoformat(),
        "data": got.verified["data"],
    }
    data = got.verified["data"]
    assert (data["id"], data["number"]) == (work_order.pk, work_order.number)
    assert data["site_id"] == site.pk
    assert data["status"] == Status.REQUESTED
    assert got.headers["webhook-id"] == f"evt_{event.pk}"
    assert got.headers["webhook-signature"].startswith("v1,")
    assert Delivery.objects.get().status == DeliveryStatus.DELIVERED


def test_a_receiver_that_fails_twice_gets_the_event_once_more_each_time_and_then_no_more(
    site, receiver, subscribe, django_capture_on_commit_callbacks
):
    subscribe(receiver, types=[EventType.WORK_ORDER_CREATED])
    receiver.answers = [500, 503]
    with django_capture_on_commit_callbacks(execute=True):
        WorkOrderFactory(site=site)

    assert len(receiver.received) == 3
    assert len(set(receiver.ids())) == 1  # the same webhook-id every time: receivers dedupe
    sent = Delivery.objects.get()
    assert (sent.status, sent.attempts, sent.last_status_code) == (DeliveryStatus.DELIVERED, 3, 200)
    assert [a.status_code for a in DeliveryAttempt.objects.order_by("id")] == [500, 503, 200]
    with django_capture_on_commit_callbacks(execute=True):
        delivery.deliveries_sweep(now=timezone.now() + timedelta(days=2))
    delivery.delivery_send(delivery_id=sent.pk)
    assert len(receiver.received) == 3


def test_retries_wait_for_the_backoff_and_the_sweeper_sends_them_when_due(
    settings, site, receiver, subscribe, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_RETRY_SCHEDULE = [120, 600]
    subscribe(receiver, types=[EventType.WORK_ORDER_CREATED])
    receiver.answers = [500, 500]
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            WorkOrderFactory(site=site)
        assert len(receiver.received) == 1
    sent = Delivery.objects.get()
    assert sent.next_attempt_at == start + timedelta(seconds=120)

    for seconds, expected in ((60, 1), (121, 2), (700, 2), (725, 3)):
        at = start + timedelta(seconds=seconds)
        with time_machine.travel(at, tick=False), django_capture_on_commit_callbacks(execute=True):
            delivery.deliveries_sweep()
        assert len(receiver.received) == expected, seconds
    sent.refresh_from_db()
    assert (sent.status, sent.attempts) == (DeliveryStatus.DELIVERED, 3)


def test_the_last_retry_fails_the_delivery_for_good(
    settings, site, receiver, subscribe, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_RETRY_SCHEDULE = [0, 0]
    subscribe(receiver, types=[EventType.WORK_ORDER_CREATED])
    receiver.answers = [500] * 10
    with django_capture_on_commit_callbacks(execute=True):
        WorkOrderFactory(site=site)

    sent = Delivery.objects.get()
    assert (sent.status, sent.attempts, sent.last_error) == (DeliveryStatus.FAILED, 3, "HTTP 500")
    assert len(receiver.received) == 3


def test_a_rolled_back_change_writes_and_sends_nothing(
    site, receiver, subscribe, django_capture_on_commit_callbacks
):
    subscribe(receiver)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        WorkOrderFactory(site=site)
        assert Event.objects.count() == 1  # the outbox row exists inside the transaction
        raise RuntimeError("the change fails after the event was written")

    assert callbacks == []
    assert not Event.objects.exists() and not Delivery.objects.exists()
    assert receiver.received == []


def test_two_events_of_one_work_order_never_overtake_each_other(
    settings, site, planner, receiver, subscribe, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_RETRY_SCHEDULE = [90]
    subscribe(receiver, types=[EventType.WORK_ORDER_CREATED, EventType.WORK_ORDER_STATUS_CHANGED])
    receiver.answers = [500]
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            work_order = WorkOrderFactory(site=site)
        with django_capture_on_commit_callbacks(execute=True):
            wo_services.work_order_transition(work_order=work_order, to=Status.APPROVED, by=planner)
            other = WorkOrderFactory(site=site)  # another work order's line is not held up
    assert receiver.types() == ["work_order.created", "work_order.created"]
    assert receiver.received[1].verified["data"]["id"] == other.pk

    later = start + timedelta(seconds=91)
    with time_machine.travel(later, tick=False), django_capture_on_commit_callbacks(execute=True):
        delivery.deliveries_sweep()
    assert receiver.types()[2:] == ["work_order.created", "work_order.status_changed"]
    assert {r.verified["data"]["id"] for r in receiver.received[2:]} == {work_order.pk}


def test_an_event_nobody_subscribed_to_writes_nothing(site, receiver, subscribe):
    subscribe(receiver, types=[EventType.GATEWAY_OFFLINE])
    WorkOrderFactory(site=site)

    assert not Event.objects.exists()


def test_a_replayed_delivery_is_sent_again_with_the_same_webhook_id(
    site, receiver, subscribe, django_capture_on_commit_callbacks
):
    subscribe(receiver, types=[EventType.WORK_ORDER_CREATED])
    with django_capture_on_commit_callbacks(execute=True):
        WorkOrderFactory(site=site)
    with django_capture_on_commit_callbacks(execute=True):
        delivery.delivery_replay(delivery=Delivery.objects.get())

    assert len(receiver.received) == 2
    assert receiver.ids()[0] == receiver.ids()[1]
    assert Delivery.objects.get().status == DeliveryStatus.DELIVERED


def test_a_delivery_being_sent_is_not_replayed_alongside(
    site, receiver, subscribe, django_capture_on_commit_callbacks
):
    subscribe(receiver, types=[EventType.WORK_ORDER_CREATED])
    with django_capture_on_commit_callbacks(execute=True):
        WorkOrderFactory(site=site)
    leased = Delivery.objects.get()
    lease = timezone.now() + timedelta(seconds=30)
    Delivery.objects.filter(pk=leased.pk).update(locked_until=lease)  # a worker sends it

    with pytest.raises(ConflictError), django_capture_on_commit_callbacks(execute=True):
        delivery.delivery_replay(delivery=leased)

    assert len(receiver.received) == 1
    assert Delivery.objects.get().locked_until == lease


def test_old_settled_events_are_pruned_and_pending_ones_kept(
    settings, site, receiver, subscribe, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_KEEP_DAYS = 30
    settings.WEBHOOK_RETRY_SCHEDULE = [3600]
    subscribe(receiver, types=[EventType.WORK_ORDER_CREATED])
    receiver.answers = [200, 500]
    with django_capture_on_commit_callbacks(execute=True):
        WorkOrderFactory(site=site)  # delivered
        WorkOrderFactory(site=site)  # pending, waiting for its retry

    assert delivery.events_prune(now=timezone.now() + timedelta(days=29)) == 0
    assert delivery.events_prune(now=timezone.now() + timedelta(days=31)) == 1
    assert Delivery.objects.get().status == DeliveryStatus.PENDING
    assert not DeliveryAttempt.objects.filter(delivery__status=DeliveryStatus.DELIVERED).exists()
