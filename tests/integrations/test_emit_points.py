"""Each event type is emitted once, by the service that makes the change."""

from collections import Counter
from datetime import date, timedelta

import pytest
import time_machine
from django.utils import timezone

from fleet.connectivity import check_connectivity, gateway_heard
from fleet.presence import gateway_died
from gateways.choices import Connectivity
from gateways.models import Gateway
from integrations import services
from integrations.choices import SUBSCRIBABLE
from integrations.models import Event
from tests.factories import GatewayFactory, PMPlanFactory, WorkOrderFactory, gateway_with_secret
from tests.scheduling import generate_at, local
from tests.webhooks import Hook, alert
from workorders import services as wo_services
from workorders.choices import Status
from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def everything(planner):
    """An endpoint of the site's planner subscribed to every type (nothing is sent: the
    deliveries are queued after commit, and these tests' transactions never commit)."""
    services.endpoint_create(owner=planner, url="http://127.0.0.1:9/", event_types=SUBSCRIBABLE)


def emitted(**filters) -> Counter:
    return Counter(Event.objects.filter(**filters).values_list("type", flat=True))


def test_work_order_services_emit_created_status_changed_assigned_and_completed(
    site, planner, technician, codes
):
    work_order = WorkOrderFactory(site=site)
    assert emitted() == {"work_order.created": 1}

    wo_services.work_order_transition(work_order=work_order, to=Status.APPROVED, by=planner)
    wo_services.work_order_assign(work_order=work_order, assignee=technician, by=planner)
    for status in (Status.SCHEDULED, Status.IN_PROGRESS):
        wo_services.work_order_transition(work_order=work_order, to=status, by=planner)
    problem, cause, remedy = codes
    wo_services.work_order_transition(
        work_order=work_order,
        to=Status.COMPLETED,
        by=planner,
        problem=problem,
        cause=cause,
        remedy=remedy,
    )

    assert emitted() == {
        "work_order.created": 1,
        "work_order.status_changed": 4,
        "work_order.assigned": 1,
        "work_order.completed": 1,
    }
    subjects = set(Event.objects.values_list("subject", flat=True))
    assert subjects == {f"work_order:{work_order.pk}"}
    changed = Event.objects.filter(type="work_order.status_changed").order_by("id").last()
    assert changed.payload["status"] == "completed"
    assert changed.payload["previous_status"] == "in_progress"


def test_alert_processing_emits_received_then_processed_with_its_work_order(
    site, pump, django_capture_on_commit_callbacks
):
    gateway, secret = gateway_with_secret(site=site)
    with django_capture_on_commit_callbacks(execute=True):
        answer = Hook(gateway, secret).post(
            {"alerts": [alert("a-1"), alert("a-2", severity="warning", condition="temp")]}
        )
    assert answer.status_code == 202

    assert emitted() == {"alert.received": 2, "alert.processed": 2, "work_order.created": 1}
    processed = {
        e.payload["alert_id"]: e.payload for e in Event.objects.filter(type="alert.processed")
    }
    work_order = WorkOrder.objects.get()
    assert processed["a-1"]["status"] == "processed"
    assert processed["a-1"]["work_order_id"] == work_order.pk
    assert processed["a-2"]["status"] == "recorded" and processed["a-2"]["work_order_id"] is None


def test_a_gateway_going_offline_and_back_emits_offline_then_online(site):
    gateway = GatewayFactory(site=site)
    now = timezone.now()
    Gateway.objects.filter(pk=gateway.pk).update(
        connectivity=Connectivity.ONLINE, last_seen_at=now - timedelta(seconds=5)
    )

    gateway_died(gateway=Gateway.objects.get(pk=gateway.pk), now=now)
    gateway_died(gateway=Gateway.objects.get(pk=gateway.pk), now=now)  # already offline
    gateway_heard(gateway=Gateway.objects.get(pk=gateway.pk), now=now + timedelta(seconds=5))

    assert emitted(type__startswith="gateway.") == {"gateway.offline": 1, "gateway.online": 1}
    offline = Event.objects.get(type="gateway.offline")
    assert offline.subject == f"gateway:{gateway.pk}" and offline.site_id == site.pk


def test_the_fleet_check_emits_offline_for_a_silent_gateway(site):
    gateway = GatewayFactory(site=site)
    long_ago = timezone.now() - timedelta(days=1)
    Gateway.objects.filter(pk=gateway.pk).update(
        connectivity=Connectivity.ONLINE, last_seen_at=long_ago, connectivity_since=long_ago
    )

    check_connectivity(now=timezone.now())
    check_connectivity(now=timezone.now())

    assert emitted(type__startswith="gateway.") == {"gateway.offline": 1}


def test_pm_generation_emits_pm_generated_and_created_per_work_order(site, pump):
    with time_machine.travel(local(site.timezone, 2025, 3, 1, 0), tick=False):
        plan = PMPlanFactory(site=site, asset=pump, starts_on=date(2025, 3, 3))
    generate_at(local(site.timezone, 2025, 3, 3, 6, 0))

    [work_order] = WorkOrder.objects.filter(pm_plan=plan)
    assert emitted() == {"pm.generated": 1, "work_order.created": 1}
    generated = Event.objects.get(type="pm.generated")
    assert generated.payload["id"] == work_order.pk
    assert generated.payload["number"] == work_order.number
    assert generated.payload["pm_plan_id"] == plan.pk
