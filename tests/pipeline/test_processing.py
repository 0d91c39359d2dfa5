"""alert_settle: policy, rules, correlation, escalation, clearing, scheduling, parts, notices."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from alerts.models import Alert
from alerts.processing import alert_mark_failed, alert_settle
from pipeline.models import AlertRule
from tests.factories import (
    ContractFactory,
    EquipmentClassFactory,
    PartFactory,
    StockFactory,
    StoreroomFactory,
    TechnicianFactory,
    WorkOrderFactory,
    move_to,
)
from workorders.choices import Source, Status, WorkOrderType
from workorders.job_plans import job_plan_save
from workorders.models import PartReservation, ReorderSuggestion, WorkOrder

pytestmark = pytest.mark.django_db


def process(alert):
    status = alert_settle(alert_id=alert.pk)
    alert.refresh_from_db()
    return status


# ---------------------------------------------------------------- default policy


@pytest.mark.parametrize(("severity", "priority", "hours"), [("critical", 1, 8), ("major", 2, 72)])
def test_without_a_rule_critical_and_major_alerts_open_work_awaiting_approval(
    make_alert, severity, priority, hours
):
    alert = make_alert(severity=severity)
    assert process(alert) == "processed"
    wo = alert.work_order
    assert (wo.status, wo.priority, wo.type, wo.source) == (
        Status.REQUESTED,
        priority,
        WorkOrderType.CONDITION_BASED,
        Source.ALERT,
    )
    assert wo.due_at == alert.observed_at + timedelta(hours=hours)
    assert (wo.asset, wo.condition, wo.alert_count, wo.alert_severity) == (
        alert.asset,
        "vibration.high",
        1,
        severity,
    )
    assert "threshold 7.1" in wo.description
    assert wo.events.filter(kind="created", message__contains="default policy").exists()


@pytest.mark.parametrize("severity", ["minor", "warning"])
def test_without_a_rule_minor_and_warning_alerts_are_recorded_only(make_alert, severity):
    alert = make_alert(severity=severity)
    assert process(alert) == "recorded"
    assert alert.work_order is None
    assert not WorkOrder.objects.exists()


def test_an_alert_without_an_asset_stays_unmatched(make_alert):
    alert = make_alert(asset=None)
    assert process(alert) == "unmatched"
    assert not WorkOrder.objects.exists()


def test_processing_twice_has_the_effect_of_once(make_alert):
    alert = make_alert()
    assert process(alert) == "processed"
    assert alert_settle(alert_id=alert.pk) is None
    assert WorkOrder.objects.count() == 1
    assert WorkOrder.objects.get().alert_count == 1


# ---------------------------------------------------------------- rules


@pytest.fixture
def job_plan(plant):
    bearing = PartFactory(sku="BRG-6205")
    return job_plan_save(
        code="vib-check",
        title="Vibration check and bearing replacement",
        estimated_hours=Decimal("3"),
        required_skill=plant["tech"].skills.get(code="vibration"),
        steps=[
            "Measure vibration",
            {"text": "Bearing temperature", "requires_value": True, "unit": "°C"},
        ],
        parts=[(bearing, Decimal("2"))],
    )


def test_the_most_specific_rule_wins(plant, make_alert, job_plan):
    site_rule = AlertRule.objects.create(name="site", site=plant["site"], condition_pattern="*")
    class_rule = AlertRule.objects.create(
        name="pumps",
        site=plant["site"],
        equipment_class=plant["pump"].equipment_class,
        condition_pattern="vibration.*",
    )
    line_rule = AlertRule.objects.create(
        name="line",
        site=plant["site"],
        asset=plant["line"],
        condition_pattern="vibration.*",
        job_plan=job_plan,
    )
    AlertRule.objects.create(name="other", site=plant["site"], condition_pattern="temperature.*")
    AlertRule.objects.create(
        name="inactive", asset=plant["pump"], site=plant["site"], is_active=False
    )
    alert = make_alert()
    process(alert)
    assert alert.work_order.alert_rule == line_rule
    line_rule.delete()
    alert2 = make_alert(condition="vibration.axial")
    process(alert2)
    assert alert2.work_order.alert_rule == class_rule
    class_rule.delete()
    alert3 = make_alert(condition="pressure.low")
    process(alert3)
    assert alert3.work_order.alert_rule == site_rule


def test_equally_specific_rules_are_decided_by_age(plant, make_alert):
    first = AlertRule.objects.create(name="b", site=plant["site"], condition_pattern="vibration.*")
    AlertRule.objects.create(name="a", site=plant["site"], condition_pattern="vibration.*")
    alert = make_alert()
    process(alert)
    assert alert.work_order.alert_rule == first


def test_a_rule_schedules_copies_the_job_plan_assigns_and_reserves(plant, make_alert, job_plan):
    stock = StockFactory(
        part=job_plan.parts.get().part, storeroom=StoreroomFactory(site=plant["site"])
    )
    AlertRule.objects.create(
        name="vib",
        site=plant["site"],
        condition_pattern="vibration.*",
        min_severity="major",
        job_plan=job_plan,
        response_critical=timedelta(hours=2),
        requires_approval=False,
    )
    alert = make_alert(severity="critical")
    process(alert)
    wo = alert.work_order
    assert wo.status == Status.SCHEDULED
    assert wo.due_at == alert.observed_at + timedelta(hours=2)
    assert wo.estimated_hours == Decimal("3")
    assert [s.text for s in wo.steps.all()] == ["Measure vibration", "Bearing temperature"]
    assert wo.steps.get(position=2).requires_value
    assert wo.assignee == plant["tech"]
    assert wo.scheduled_start is not None and wo.scheduled_start <= wo.due_at
    reservation = PartReservation.objects.get(work_order=wo)
    assert (reservation.stock, reservation.quantity) == (stock, Decimal("2"))
    stock.refresh_from_db()
    assert stock.reserved == Decimal("2")
    assert not wo.waiting_for_parts and not wo.needs_attention


def test_alerts_below_the_rules_minimum_severity_are_recorded(plant, make_alert):
    AlertRule.objects.create(name="vib", site=plant["site"], min_severity="major")
    assert process(make_alert(severity="minor")) == "recorded"
    assert process(make_alert(severity="major")) == "processed"


def test_a_parts_shortfall_flags_the_work_and_suggests_a_reorder(plant, make_alert, job_plan):
    stock = StockFactory(
        part=job_plan.parts.get().part, storeroom=StoreroomFactory(site=plant["site"]), on_hand=1
    )
    AlertRule.objects.create(name="vib", site=plant["site"], job_plan=job_plan)
    alert = make_alert()
    process(alert)
    wo = alert.work_order
    assert wo.waiting_for_parts
    assert "waiting for parts" in wo.needs_attention.lower()
    suggestion = ReorderSuggestion.objects.get(work_order=wo)
    assert (suggestion.part, suggestion.quantity) == (stock.part, Decimal("1"))
    stock.refresh_from_db()
    assert stock.reserved == Decimal("1")


def test_reservations_are_released_when_the_work_is_cancelled(plant, make_alert, job_plan):
    stock = StockFactory(
        part=job_plan.parts.get().part, storeroom=StoreroomFactory(site=plant["site"])
    )
    AlertRule.objects.create(name="vib", site=plant["site"], job_plan=job_plan)
    alert = make_alert()
    process(alert)
    from workorders.services import work_order_transition

    work_order_transition(work_order=alert.work_order, to=Status.CANCELLED, reason="false alarm")
    stock.refresh_from_db()
    assert stock.reserved == Decimal("0")
    assert not PartReservation.objects.exists()


def test_issuing_reserved_parts_consumes_the_reservation(plant, make_alert, job_plan):
    stock = StockFactory(
        part=job_plan.parts.get().part, storeroom=StoreroomFactory(site=plant["site"]), on_hand=2
    )
    AlertRule.objects.create(
        name="vib", site=plant["site"], job_plan=job_plan, requires_approval=False
    )
    alert = make_alert()
    process(alert)
    wo = alert.work_order
    from workorders.services import work_order_issue_part

    work_order_issue_part(work_order=wo, stock=stock, quantity=2)
    stock.refresh_from_db()
    assert (stock.on_hand, stock.reserved) == (Decimal("0"), Decimal("0"))
    assert PartReservation.objects.get(work_order=wo).issued == Decimal("2")


# ---------------------------------------------------------------- assignment and notice


def test_the_least_loaded_qualified_technician_at_the_site_gets_the_work(plant, make_alert):
    busy = plant["tech"]
    free = TechnicianFactory(sites=[plant["site"]], skills=["vibration"])
    TechnicianFactory(sites=[plant["site"]], skills=["electrical"])  # wrong skill
    TechnicianFactory(skills=["vibration"])  # another site
    WorkOrderFactory(site=plant["site"], assignee=busy, estimated_hours=Decimal("6"))
    plan = job_plan_save(code="j", title="J", required_skill=busy.skills.get(code="vibration"))
    AlertRule.objects.create(name="vib", site=plant["site"], job_plan=plan)
    alert = make_alert()
    process(alert)
    assert alert.work_order.assignee == free


def test_when_nobody_qualifies_the_work_stays_unassigned_and_flagged(plant, make_alert):
    plan = job_plan_save(code="j", title="J", required_skill=EquipmentClassFactory and None)
    plan.required_skill = TechnicianFactory(skills=["instrumentation"]).skills.get()
    plan.save()
    AlertRule.objects.create(name="inst", site=plant["site"], job_plan=plan)
    alert = make_alert()
    process(alert)
    wo = alert.work_order
    assert wo.assignee is None
    assert "no qualified technician" in wo.needs_attention.lower()


def test_the_assigned_technician_is_emailed_after_commit(
    plant, make_alert, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        alert = make_alert()
        process(alert)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [plant["tech"].email]
    assert alert.work_order.number in message.subject
    assert f"/tech/work-orders/{alert.work_order.pk}/" in message.body


# ---------------------------------------------------------------- correlation


def test_further_alerts_attach_to_the_open_work_order(make_alert):
    first = make_alert(severity="major")
    process(first)
    later = make_alert(severity="minor", observed_at=first.observed_at + timedelta(minutes=5))
    assert process(later) == "processed"
    assert later.work_order == first.work_order
    wo = WorkOrder.objects.get()
    assert (wo.alert_count, wo.alert_severity, wo.priority) == (2, "major", 2)
    assert wo.last_alert_at == later.observed_at
    assert wo.first_alert_at == first.observed_at


def test_a_higher_severity_escalates_priority_and_pulls_in_the_due_date(make_alert):
    first = make_alert(severity="major")
    process(first)
    due_before = first.work_order.due_at
    worse = make_alert(severity="critical")
    process(worse)
    wo = WorkOrder.objects.get()
    assert (wo.priority, wo.alert_severity) == (1, "critical")
    assert wo.due_at == worse.observed_at + timedelta(hours=8) < due_before
    event = wo.events.get(kind="priority")
    assert event.data["from"]["priority"] == 2 and event.data["to"]["priority"] == 1


def test_a_completed_work_order_is_not_reused(make_alert):
    first = make_alert()
    process(first)
    move_to(first.work_order, Status.COMPLETED)
    again = make_alert()
    process(again)
    assert again.work_order != first.work_order
    assert WorkOrder.objects.count() == 2


def test_the_database_refuses_a_second_open_work_order_for_the_same_key(plant):
    from django.db import IntegrityError, transaction

    fields = {"site": plant["site"], "asset": plant["pump"], "condition": "vibration.high"}
    WorkOrder.objects.create(title="first", **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkOrder.objects.create(title="second", **fields)
    WorkOrder.objects.create(title="closed one", status=Status.CLOSED, **fields)


def test_a_cleared_alert_is_recorded_on_the_timeline(make_alert):
    first = make_alert()
    process(first)
    cleared = make_alert(state="cleared")
    assert process(cleared) == "processed"
    assert cleared.work_order == first.work_order
    wo = WorkOrder.objects.get()
    assert wo.status == Status.REQUESTED
    assert wo.events.filter(kind="alert", message__contains="cleared").exists()


def test_a_cleared_alert_cancels_unstarted_work_when_the_rule_says_so(plant, make_alert):
    AlertRule.objects.create(name="vib", site=plant["site"], cancel_on_clear=True)
    first = make_alert()
    process(first)
    process(make_alert(state="cleared"))
    wo = WorkOrder.objects.get()
    assert wo.status == Status.CANCELLED
    assert "cleared" in wo.history.last().reason


def test_a_cleared_alert_without_open_work_is_recorded(make_alert):
    assert process(make_alert(state="cleared")) == "recorded"


# ---------------------------------------------------------------- failures


def test_a_failed_alert_is_kept_with_its_error_and_retried_with_backoff(make_alert):
    alert = make_alert()
    alert_mark_failed(alert_id=alert.pk, error="boom")
    alert.refresh_from_db()
    assert (alert.status, alert.attempts, alert.error) == ("failed", 1, "boom")
    first_retry = alert.next_attempt_at
    alert_mark_failed(alert_id=alert.pk, error="boom again")
    alert.refresh_from_db()
    assert alert.attempts == 2 and alert.next_attempt_at > first_retry
    assert process(alert) == "processed"
    assert alert.error == "" and alert.next_attempt_at is None


@pytest.mark.postgresql(reason="eight connections write at once; SQLite locks the table")
@pytest.mark.django_db(transaction=True)
def test_concurrent_alerts_for_one_condition_open_exactly_one_work_order(make_alert):
    """Eight connections process eight alerts of the same (asset, condition) at once."""
    alerts = [make_alert(severity="major") for _ in range(8)]
    barrier = threading.Barrier(len(alerts))
    errors = []

    def work(alert_id):
        try:
            barrier.wait()
            alert_settle(alert_id=alert_id)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(a.pk,)) for a in alerts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    wo = WorkOrder.objects.get()
    assert wo.alert_count == 8
    assert set(Alert.objects.values_list("status", "work_order")) == {("processed", wo.pk)}


def test_one_run_drains_the_waiting_alerts_of_the_same_condition(
    make_alert, django_assert_max_num_queries
):
    """A storm is linked in a few transactions; the other alerts' tasks then do nothing."""
    first = make_alert(severity="major")
    process(first)
    storm = [make_alert(severity="minor") for _ in range(40)]
    storm.append(make_alert(severity="critical"))
    other_condition = make_alert(condition="temperature.high", severity="minor")
    # 12, and the outbound events' look-up of subscribed endpoints (integrations) for the new
    # work order and for the alerts settled.
    with django_assert_max_num_queries(14):
        assert process(storm[0]) == "processed"
    wo = WorkOrder.objects.get()
    assert wo.alert_count == 42
    assert (wo.priority, wo.alert_severity) == (1, "critical")
    assert Alert.objects.filter(work_order=wo, status="processed").count() == 42
    assert [alert_settle(alert_id=a.pk) for a in storm[1:]] == [None] * 40
    other_condition.refresh_from_db()
    assert other_condition.status == "received"


def test_a_chunk_task_processes_each_alert_in_its_own_transaction(make_alert, monkeypatch):
    """One bad alert in a chunk is marked failed; the others are processed."""
    from alerts import processing, tasks

    good = [make_alert(condition=f"vibration.c{i}") for i in range(3)]
    bad = make_alert(condition="broken.rule")
    real_rule_for = processing.rule_for

    def rule_for(alert):
        if alert.condition == "broken.rule":
            raise RuntimeError("broken rule")
        return real_rule_for(alert)

    monkeypatch.setattr(processing, "rule_for", rule_for)
    tasks.alerts_process([good[0].pk, bad.pk, good[1].pk, good[2].pk])
    statuses = dict(Alert.objects.values_list("pk", "status"))
    assert [statuses[a.pk] for a in good] == ["processed"] * 3
    assert statuses[bad.pk] == "failed"
    assert WorkOrder.objects.count() == 3


# ---------------------------------------------------------------- chunks: quiet alerts together


def test_a_chunk_settles_its_quiet_alerts_together_and_the_rest_one_by_one(
    plant, make_alert, django_assert_max_num_queries
):
    from alerts import processing
    from alerts.processing import alerts_settle_quiet
    from tests.factories import AssetFactory

    first = make_alert(condition="temperature.high", severity="major")
    process(first)
    open_wo = first.work_order
    quiet = [
        make_alert(asset=AssetFactory(site=plant["site"]), severity=s)
        for s in ["minor", "warning"] * 10
    ]
    unmatched = make_alert(asset=None, severity="minor")
    joins = make_alert(condition="temperature.high", severity="warning")  # an open WO exists
    opens = make_alert(severity="critical")
    cleared = make_alert(condition="temperature.high", state="cleared", severity="minor")
    chunk = [a.pk for a in [*quiet, unmatched, joins, opens, cleared]]

    # Whatever the number of quiet alerts: 8, and one look-up of subscribed endpoints (outbound
    # events) for the site.
    with django_assert_max_num_queries(9):
        rest = alerts_settle_quiet(alert_ids=chunk)
    assert rest == [joins.pk, opens.pk, cleared.pk]
    statuses = dict(Alert.objects.values_list("pk", "status"))
    assert {statuses[a.pk] for a in quiet} == {"recorded"}
    assert statuses[unmatched.pk] == "unmatched"
    assert Alert.objects.get(pk=quiet[0].pk).processed_at is not None

    processing.alerts_process(alert_ids=chunk)
    for alert in (joins, opens, cleared):
        alert.refresh_from_db()
    assert joins.work_order == open_wo and joins.status == "processed"
    assert opens.work_order is not None and opens.work_order != open_wo
    assert cleared.status == "processed"
    assert WorkOrder.objects.count() == 2


def test_a_chunk_asks_the_rules_whether_a_minor_alert_opens_work(plant, make_alert):
    from alerts.processing import alerts_settle_quiet

    AlertRule.objects.create(
        name="any vibration", site=plant["site"], condition_pattern="vibration.*",
        min_severity="minor",
    )  # fmt: skip
    minor = make_alert(severity="minor")
    warning = make_alert(severity="warning", condition="vibration.low")
    assert alerts_settle_quiet(alert_ids=[minor.pk, warning.pk]) == [minor.pk]
    warning.refresh_from_db()
    assert warning.status == "recorded"


@pytest.mark.postgresql(reason="SKIP LOCKED rows held by another connection")
@pytest.mark.django_db(transaction=True)
def test_a_chunk_leaves_alerts_another_worker_holds(make_alert):
    from alerts.processing import alerts_settle_quiet

    held, free = make_alert(severity="minor"), make_alert(severity="minor", condition="x.y")
    locked, release = threading.Event(), threading.Event()

    def hold():
        from django.db import transaction

        try:
            with transaction.atomic():
                Alert.objects.select_for_update().get(pk=held.pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    locked.wait(10)
    try:
        assert alerts_settle_quiet(alert_ids=[held.pk, free.pk]) == [held.pk]
    finally:
        release.set()
        holder.join()
    assert Alert.objects.get(pk=held.pk).status == "received"
    assert Alert.objects.get(pk=free.pk).status == "recorded"


def test_an_escalation_moves_the_contracts_sla_clock_to_the_new_priority(make_alert, plant):
    site = plant["site"]
    ContractFactory(
        customer=site.customer,
        sites=[site],
        targets={2: (8, 40, "calendar"), 1: (1, 4, "calendar")},
        starts_on=timezone.localdate() - timedelta(days=10),
    )
    first = make_alert(severity="major")
    process(first)
    wo = first.work_order
    assert (wo.priority, wo.response_due_at) == (2, wo.sla_started_at + timedelta(hours=8))
    process(make_alert(severity="critical"))
    wo.refresh_from_db()
    assert wo.priority == 1
    assert wo.response_due_at == wo.sla_started_at + timedelta(hours=1)
    assert wo.resolution_due_at == wo.sla_started_at + timedelta(hours=4)
