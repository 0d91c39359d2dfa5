"""The SLA beat: states refreshed, planners warned once per threshold."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from cmms.celery import app
from contracts import tasks
from contracts.choices import SlaState
from contracts.models import SlaWarning
from contracts.warnings import sla_warnings_send
from tests.concurrency import at_once
from tests.factories import (
    ContractFactory,
    PlannerFactory,
    SiteFactory,
    TechnicianFactory,
    WorkOrderFactory,
    move_to,
)
from workorders import services
from workorders.choices import HoldReason, Priority, Status
from workorders.models import WorkOrder

BERLIN = ZoneInfo("Europe/Berlin")
CREATED = datetime(2026, 3, 24, 9, tzinfo=BERLIN)  # P3: respond by 13:00, at risk at 12:00
AT_RISK = datetime(2026, 3, 24, 12, tzinfo=BERLIN)
BREACHED = datetime(2026, 3, 24, 13, 0, 1, tzinfo=BERLIN)


def make_work(*, pausing=()):
    site = SiteFactory(timezone="Europe/Berlin")
    ContractFactory(
        customer=site.customer,
        sites=[site],
        targets={Priority.MEDIUM: (4, 16)},
        starts_on=datetime(2026, 1, 1).date(),
        pausing_hold_reasons=list(pausing),
    )
    planner = PlannerFactory(sites=[site], email="planner@example.com")
    with time_machine.travel(CREATED, tick=False):
        work_order = WorkOrderFactory(site=site, priority=Priority.MEDIUM, title="Pump leaks")
    return work_order, planner


def test_the_beat_schedule_runs_the_registered_task_every_minute(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["sla-warn"]
    assert entry == {"task": "contracts.tasks.sla_warn", "schedule": 60.0}
    assert "contracts.tasks.sla_warn" in app.tasks
    assert settings.CELERY_TASK_ROUTES["contracts.tasks.sla_warn"] == {"queue": "housekeeping"}


@pytest.mark.django_db
def test_nothing_is_sent_before_a_threshold():
    make_work()
    assert sla_warnings_send(now=AT_RISK - timedelta(microseconds=1)) == 0
    assert mail.outbox == []


@pytest.mark.django_db
def test_the_sites_planners_are_warned_once_per_threshold_over_repeated_runs():
    work_order, _ = make_work()
    PlannerFactory(sites=[SiteFactory()], email="elsewhere@example.com")
    TechnicianFactory(sites=[work_order.site], email="tech@example.com")

    assert sla_warnings_send(now=AT_RISK) == 1
    assert sla_warnings_send(now=AT_RISK + timedelta(minutes=1)) == 0
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["planner@example.com"]
    assert work_order.number in message.subject
    assert "Pump leaks" in message.body
    assert "2026-03-24 13:00 CET" in message.body
    assert f"/admin/workorders/workorder/{work_order.pk}/change/" in message.body
    assert work_order.asset.tag in message.body

    assert sla_warnings_send(now=BREACHED) == 1
    assert sla_warnings_send(now=BREACHED + timedelta(minutes=5)) == 0
    assert len(mail.outbox) == 2
    assert "breached" in mail.outbox[1].subject
    assert set(SlaWarning.objects.values_list("measure", "state")) == {
        ("response", "at_risk"),
        ("response", "breached"),
    }


@pytest.mark.django_db
def test_the_run_stores_the_current_state():
    work_order, _ = make_work()
    sla_warnings_send(now=AT_RISK)
    assert WorkOrder.objects.get(pk=work_order.pk).sla_state == SlaState.AT_RISK
    sla_warnings_send(now=BREACHED)
    assert WorkOrder.objects.get(pk=work_order.pk).sla_state == SlaState.BREACHED


@pytest.mark.django_db
def test_responded_work_is_not_warned_about_its_response():
    work_order, _ = make_work()
    with time_machine.travel(CREATED + timedelta(hours=1), tick=False):
        move_to(work_order, Status.IN_PROGRESS)
    assert sla_warnings_send(now=BREACHED) == 0
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_clock_standing_still_is_not_warned():
    work_order, _ = make_work(pausing=[HoldReason.WAITING_FOR_CLIENT])
    with time_machine.travel(CREATED + timedelta(minutes=30), tick=False):
        move_to(work_order, Status.IN_PROGRESS)
        services.work_order_transition(
            work_order=work_order,
            to=Status.ON_HOLD,
            reason="client",
            hold_reason=HoldReason.WAITING_FOR_CLIENT,
        )
    assert sla_warnings_send(now=datetime(2026, 3, 27, 12, tzinfo=BERLIN)) == 0


@pytest.mark.django_db
def test_the_task_warns_at_the_current_time():
    make_work()
    with time_machine.travel(BREACHED, tick=False):
        assert tasks.sla_warn() == 1


@pytest.mark.django_db
def test_a_run_examines_a_bounded_batch_and_the_next_run_continues():
    work_order, _ = make_work()
    with time_machine.travel(CREATED, tick=False):
        WorkOrderFactory(site=work_order.site, priority=Priority.MEDIUM)
    assert sla_warnings_send(now=AT_RISK, batch=1) == 1
    assert sla_warnings_send(now=AT_RISK, batch=1) == 1
    assert sla_warnings_send(now=AT_RISK, batch=1) == 0


@pytest.mark.postgresql(reason="SQLite locks the whole database for writers")
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_send_each_warning_once():
    for _ in range(5):
        make_work()
    results = at_once(lambda: sla_warnings_send(now=AT_RISK), 3)

    assert sum(results) == 5
    assert len(mail.outbox) == 5
    assert SlaWarning.objects.count() == 5
