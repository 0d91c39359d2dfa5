"""Figure 13: outbound events delivered per second to a local receiver, next to the rate of
the changes that produce them.

A site of the bench plant's kind with one integrator endpoint subscribed to the work order
events; a receiver process (`bench.receiver`) on loopback verifies every delivery with the
`standardwebhooks` library and counts them by `webhook-id`.

- Changes: `changes` work orders each created, assigned and approved through the services
  (three changes, three events each to one endpoint), in this process, timed. The same
  sequence with no subscriber is the reference: the outbox's cost on the writing path.
- Delivery: the deliveries wait (no worker runs while they are written); then one Celery
  node of 2 processes starts on the queue the deliveries go to and the figure is the time to
  deliver them all, in order per work order, with the receiver's count of distinct ids.
"""

import json
import os
import subprocess
import sys
import time
import urllib.request

from bench.load import wait_for
from bench.stack import ROOT, free_port


def _changes(site, planner, technician, count: int, prefix: str) -> float:
    """Seconds to create, assign and approve `count` work orders, one transaction each."""
    from workorders.choices import Status
    from workorders.services import work_order_assign, work_order_create, work_order_transition

    started = time.perf_counter()
    for n in range(count):
        work_order = work_order_create(site=site, title=f"{prefix} {n}", by=planner)
        work_order_assign(work_order=work_order, assignee=technician, by=planner)
        work_order_transition(work_order=work_order, to=Status.APPROVED, by=planner)
    return time.perf_counter() - started


def _people(site):
    from accounts.models import User
    from cmms.roles import Role

    planner = User.objects.create_user("bench-integrator", role=Role.PLANNER)
    planner.sites.add(site)
    technician = User.objects.create_user("bench-events-tech", role=Role.TECHNICIAN)
    technician.sites.add(site)
    return planner, technician


def _stats(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=5) as answer:
        return json.loads(answer.read())


def webhooks_figure(stack, scale: dict) -> dict:
    from assets.models import Customer, Site
    from integrations.choices import DeliveryStatus, EventType
    from integrations.models import Delivery
    from integrations.services import endpoint_create

    count = scale["webhook_work_orders"]
    site = Site.objects.create(
        customer=Customer.objects.get_or_create(name="Bench")[0], code="events", name="Events"
    )
    planner, technician = _people(site)
    reference_seconds = _changes(site, planner, technician, count, "no subscriber")
    port = free_port()
    endpoint, secret = endpoint_create(
        owner=planner,
        url=f"http://127.0.0.1:{port}/hooks",
        event_types=[
            EventType.WORK_ORDER_CREATED,
            EventType.WORK_ORDER_ASSIGNED,
            EventType.WORK_ORDER_STATUS_CHANGED,
        ],
        sites=[site],
    )
    receiver = subprocess.Popen(
        [sys.executable, "-m", "bench.receiver", str(port)],
        cwd=ROOT,
        env={**os.environ, "BENCH_RECEIVER_SECRET": secret},
    )
    try:
        wait_for(lambda: _up(port), timeout=30, what="the receiver to start")
        seconds = _changes(site, planner, technician, count, "subscribed")
        deliveries = Delivery.objects.filter(endpoint=endpoint)
        events = deliveries.count()
        started = time.monotonic()
        stack.start_worker("worker-events", queues="default", concurrency=2)
        done = wait_for(
            lambda: not deliveries.exclude(status=DeliveryStatus.DELIVERED).exists(),
            timeout=900,
            what="the events to be delivered",
        )
        stack.stop("worker-events")
        received = _stats(port)
    finally:
        receiver.terminate()
        receiver.wait(timeout=10)
    delivery_seconds = done - started
    return {
        "work_orders": count,
        "changes": 3 * count,
        "changes_per_s_subscribed": round(3 * count / seconds, 1),
        "changes_per_s_no_subscriber": round(3 * count / reference_seconds, 1),
        "events": events,
        "delivery_seconds_including_worker_start": round(delivery_seconds, 2),
        "events_per_s": round(events / delivery_seconds, 1),
        "received_unique": received["unique"],
        "received_posts": received["posts"],
        "received_invalid": received["invalid"],
        "ratio_to_changes": round((events / delivery_seconds) / (3 * count / seconds), 3),
        "target": "delivery keeps up with the changes (ratio >= 1.0), every event once, signed",
    }


def _up(port: int) -> bool:
    try:
        _stats(port)
        return True
    except OSError:
        return False
