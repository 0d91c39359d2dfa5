"""A worker killed mid-delivery loses no event: real Celery worker processes, a real broker."""

import threading

import pytest

from integrations import delivery, services
from integrations.choices import DeliveryStatus
from integrations.models import Delivery
from tests.factories import PlannerFactory, SiteFactory, WorkOrderFactory
from tests.integrations.receiver import Receiver
from tests.workers import RedisServer, Worker, publishing_to, wait_until

# Real worker processes keep the machine's clock (tests.clock).
pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("real_clock"),
]


@pytest.fixture
def broker():
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def held_receiver():
    """A receiver that holds every request until the test lets go."""
    receiver = Receiver(hold=threading.Event()).start()
    yield receiver
    receiver.stop()


def test_a_worker_killed_mid_delivery_loses_no_event(broker, held_receiver, monkeypatch, settings):
    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE_NETWORKS", "1")  # the workers' settings
    monkeypatch.setenv("WEBHOOK_LEASE_SECONDS", "2")
    settings.WEBHOOK_LEASE_SECONDS = 2
    site = SiteFactory()
    planner = PlannerFactory(sites=[site])
    _, held_receiver.secret = services.endpoint_create(
        owner=planner, url=held_receiver.url, event_types=["work_order.created"]
    )
    first = Worker(broker.url, concurrency=1, queues="default").start()
    try:
        with publishing_to(broker.url):
            WorkOrderFactory(site=site)  # committed: its delivery is queued after commit
        wait_until(lambda: held_receiver.received, timeout=60, message=first.output)
    finally:
        first.kill()  # SIGKILL while the POST waits for its answer
    hold, held_receiver.hold = held_receiver.hold, None
    hold.set()
    claimed = Delivery.objects.get()
    assert claimed.status == DeliveryStatus.PENDING and claimed.locked_until is not None

    second = Worker(broker.url, concurrency=1, queues="default").start()
    try:
        with publishing_to(broker.url):
            wait_until(
                lambda: delivery.deliveries_sweep() == 1, timeout=30
            )  # once the lease ran out
        wait_until(
            lambda: Delivery.objects.get().status == DeliveryStatus.DELIVERED,
            timeout=60,
            message=second.output,
        )
    finally:
        second.stop()

    assert len(held_receiver.received) == 2
    assert held_receiver.ids()[0] == held_receiver.ids()[1]  # the same webhook-id: dedupe on it
    assert held_receiver.received[1].verified["type"] == "work_order.created"
