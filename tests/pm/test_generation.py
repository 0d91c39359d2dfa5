from datetime import date, time, timedelta
from decimal import Decimal

import pytest
import time_machine

from assets.choices import AssetState
from pm.choices import OccurrenceStatus
from pm.models import PMOccurrence
from pm.services import pm_generate_due, pm_plan_save
from tests.factories import (
    AssetFactory,
    EquipmentClassFactory,
    JobPlanFactory,
    PartFactory,
    SiteFactory,
    StockFactory,
    StoreroomFactory,
    move_to,
)
from tests.scheduling import generate_at, local, local_dues, occurrences, pm_work_orders
from workorders.choices import Source, Status, WorkOrderType
from workorders.models import ReorderSuggestion, StatusChange

pytestmark = pytest.mark.django_db

BERLIN = "Europe/Berlin"
CHICAGO = "America/Chicago"


def test_it_generates_a_preventive_work_order_with_the_job_plan_copied(make_plan, pump):
    plan = make_plan(
        local(BERLIN, 2025, 3, 1, 0), starts_on=date(2025, 3, 3), work_order_status="approved"
    )
    result = generate_at(local(BERLIN, 2025, 3, 3, 6, 0))

    [wo] = pm_work_orders(plan)
    assert result.generated == 1
    assert wo.number == f"WO-{wo.pk:06d}"
    assert (wo.type, wo.status, wo.source) == (
        WorkOrderType.PREVENTIVE,
        Status.APPROVED,
        Source.PM,
    )
    assert wo.asset == pump and wo.job_plan == plan.job_plan
    assert wo.due_at == wo.planned_due_at == local(BERLIN, 2025, 3, 3, 6, 0)
    assert [s.text for s in wo.steps.all()] == ["Grease bearings", "Check noise"]
    history = StatusChange.objects.get(work_order=wo)
    assert (history.from_status, history.to_status, history.reason) == ("", "approved", "created")
    assert wo.pm_occurrence.status == OccurrenceStatus.GENERATED
    assert not wo.pm_occurrence.late and wo.needs_attention == ""


def test_a_fixed_monthly_plan_keeps_its_anchor_day_through_month_ends(make_plan):
    plan = make_plan(
        local(BERLIN, 2025, 1, 30, 12), starts_on=date(2025, 1, 31), skip_while_open=False
    )
    for moment in [
        local(BERLIN, 2025, 1, 31, 6, 5),
        local(BERLIN, 2025, 2, 28, 6, 5),
        local(BERLIN, 2025, 3, 31, 6, 5),
        local(BERLIN, 2025, 4, 30, 6, 5),
    ]:
        generate_at(moment)

    assert [d.date() for d in local_dues(plan)] == [
        date(2025, 1, 31),
        date(2025, 2, 28),
        date(2025, 3, 31),
        date(2025, 4, 30),
    ]
    assert not any(o.late for o in occurrences(plan))


def test_a_fixed_plan_does_not_drift_when_work_is_completed_late(make_plan):
    plan = make_plan(
        local(BERLIN, 2025, 1, 1), starts_on=date(2025, 1, 6), interval=1, interval_unit="week"
    )
    generate_at(local(BERLIN, 2025, 1, 6, 6))
    with time_machine.travel(local(BERLIN, 2025, 1, 10, 15), tick=False):
        move_to(pm_work_orders(plan)[0], Status.COMPLETED)
    generate_at(local(BERLIN, 2025, 1, 13, 6))

    assert [d.date() for d in local_dues(plan)] == [date(2025, 1, 6), date(2025, 1, 13)]


def test_a_floating_plan_counts_from_the_last_completion(make_plan):
    plan = make_plan(
        local(BERLIN, 2025, 1, 1),
        starts_on=date(2025, 1, 6),
        interval=1,
        interval_unit="week",
        anchor="floating",
    )
    generate_at(local(BERLIN, 2025, 1, 6, 6))
    # Still open: no next date yet, and nothing is skipped.
    generate_at(local(BERLIN, 2025, 1, 14, 6))
    assert len(pm_work_orders(plan)) == 1
    assert len(occurrences(plan)) == 1

    with time_machine.travel(local(BERLIN, 2025, 1, 15, 16), tick=False):
        move_to(pm_work_orders(plan)[0], Status.COMPLETED)
    generate_at(local(BERLIN, 2025, 1, 21, 6))
    assert len(pm_work_orders(plan)) == 1  # due 22 Jan, a week after the completion
    generate_at(local(BERLIN, 2025, 1, 22, 6))

    assert local_dues(plan) == [local(BERLIN, 2025, 1, 6, 6), local(BERLIN, 2025, 1, 22, 6)]


@pytest.mark.parametrize(
    ("tz", "first_day"),
    [
        (BERLIN, date(2025, 3, 28)),  # spring forward 30 March
        (BERLIN, date(2025, 10, 24)),  # fall back 26 October
        (CHICAGO, date(2025, 3, 7)),  # spring forward 9 March
        (CHICAGO, date(2025, 10, 31)),  # fall back 2 November
    ],
)
def test_due_dates_stay_at_six_in_the_morning_local_time_across_daylight_saving(
    tz, first_day, make_plan, job_plan
):
    site = SiteFactory(timezone=tz)
    asset = AssetFactory(site=site)
    plan = make_plan(
        local(tz, first_day.year, first_day.month, first_day.day - 1),
        site=site,
        asset=asset,
        starts_on=first_day,
        interval=1,
        interval_unit="day",
        due_time=time(6),
        skip_while_open=False,
    )
    for offset in range(4):
        day = first_day + timedelta(days=offset)
        generate_at(local(tz, day.year, day.month, day.day, 6, 1))

    dues = local_dues(plan, tz)
    assert [d.hour for d in dues] == [6, 6, 6, 6]
    assert [d.date() for d in dues] == [first_day + timedelta(days=n) for n in range(4)]
    utc_hours = {d.utcoffset() for d in dues}
    assert len(utc_hours) == 2  # the offset changed in the middle, the local time did not


def test_a_lead_time_generates_the_work_order_days_before_it_is_due(make_plan):
    plan = make_plan(local(BERLIN, 2025, 5, 1), starts_on=date(2025, 5, 20), lead_days=7)

    generate_at(local(BERLIN, 2025, 5, 13, 5, 59))
    assert pm_work_orders(plan) == []
    generate_at(local(BERLIN, 2025, 5, 13, 6, 0))

    [wo] = pm_work_orders(plan)
    assert wo.due_at == local(BERLIN, 2025, 5, 20, 6)
    assert not wo.pm_occurrence.late


def test_no_occurrence_is_generated_after_the_end_date(make_plan):
    plan = make_plan(
        local(BERLIN, 2025, 1, 1),
        starts_on=date(2025, 1, 6),
        interval=1,
        interval_unit="week",
        ends_on=date(2025, 1, 19),
        skip_while_open=False,
    )
    generate_at(local(BERLIN, 2025, 3, 1))

    assert [d.date() for d in local_dues(plan)] == [date(2025, 1, 6), date(2025, 1, 13)]


def test_an_occurrence_is_skipped_and_recorded_while_the_previous_work_order_is_open(make_plan):
    plan = make_plan(
        local(BERLIN, 2025, 1, 1), starts_on=date(2025, 1, 6), interval=1, interval_unit="week"
    )
    generate_at(local(BERLIN, 2025, 1, 6, 6))
    first = pm_work_orders(plan)[0]
    generate_at(local(BERLIN, 2025, 1, 13, 6))

    assert pm_work_orders(plan) == [first]
    skipped = occurrences(plan)[1]
    assert skipped.status == OccurrenceStatus.SKIPPED and skipped.work_order is None
    assert skipped.due_at == local(BERLIN, 2025, 1, 13, 6)
    assert first.number in skipped.reason

    with time_machine.travel(local(BERLIN, 2025, 1, 14), tick=False):
        move_to(first, Status.COMPLETED)
    generate_at(local(BERLIN, 2025, 1, 20, 6))
    assert len(pm_work_orders(plan)) == 2


def test_without_skip_while_open_every_occurrence_gets_a_work_order(make_plan):
    plan = make_plan(
        local(BERLIN, 2025, 1, 1),
        starts_on=date(2025, 1, 6),
        interval=1,
        interval_unit="week",
        skip_while_open=False,
    )
    generate_at(local(BERLIN, 2025, 1, 6, 6))
    generate_at(local(BERLIN, 2025, 1, 13, 6))

    assert len(pm_work_orders(plan)) == 2


def test_missed_days_are_caught_up_late_and_marked(make_plan):
    plan = make_plan(
        local(BERLIN, 2025, 4, 1),
        starts_on=date(2025, 4, 1),
        interval=1,
        interval_unit="day",
        due_time=time(6),
        skip_while_open=False,
    )
    generate_at(local(BERLIN, 2025, 4, 1, 6, 5))
    # The scheduler is down on 2 and 3 April.
    result = generate_at(local(BERLIN, 2025, 4, 4, 6, 5))

    assert result.generated == 3 and result.late == 2
    wos = pm_work_orders(plan)
    assert [d.day for d in local_dues(plan)] == [1, 2, 3, 4]
    assert [wo.pm_occurrence.late for wo in wos] == [False, True, True, False]
    assert wos[1].needs_attention.startswith("Generated late: missed occurrence of 2025-04-02")
    assert wos[3].needs_attention == ""


def test_caught_up_occurrences_are_skipped_visibly_while_the_late_one_is_open(make_plan):
    plan = make_plan(
        local(BERLIN, 2025, 4, 1), starts_on=date(2025, 4, 1), interval=1, interval_unit="day"
    )
    generate_at(local(BERLIN, 2025, 4, 3, 6, 5))

    statuses = [(o.due_at.day, o.status, o.late) for o in occurrences(plan)]
    assert statuses == [
        (1, OccurrenceStatus.GENERATED, True),
        (2, OccurrenceStatus.SKIPPED, True),
        (3, OccurrenceStatus.SKIPPED, False),
    ]


def test_running_generation_twice_creates_each_occurrence_once(make_plan):
    plan = make_plan(local(BERLIN, 2025, 1, 1), starts_on=date(2025, 1, 6))
    first = generate_at(local(BERLIN, 2025, 1, 6, 7))
    second = generate_at(local(BERLIN, 2025, 1, 6, 7))

    assert (first.generated, second.generated) == (1, 0)
    assert len(pm_work_orders(plan)) == 1


def test_a_paused_plan_is_not_generated_and_its_pause_is_not_caught_up(make_plan):
    plan = make_plan(
        local(BERLIN, 2025, 1, 1), starts_on=date(2025, 1, 6), interval=1, interval_unit="week"
    )
    with time_machine.travel(local(BERLIN, 2025, 1, 2), tick=False):
        pm_plan_save(plan=plan, is_active=False)
    generate_at(local(BERLIN, 2025, 1, 20, 6))
    assert pm_work_orders(plan) == []

    with time_machine.travel(local(BERLIN, 2025, 1, 25), tick=False):
        pm_plan_save(plan=plan, is_active=True)
    generate_at(local(BERLIN, 2025, 1, 27, 6))
    assert [d.date() for d in local_dues(plan)] == [date(2025, 1, 27)]


def test_a_subtree_plan_generates_for_each_live_asset_below_the_top(site, make_plan):
    line = AssetFactory(site=site, tag="L-1", level="line")
    pumps = [AssetFactory(site=site, parent=line, tag=f"P-{n}") for n in (1, 2)]
    AssetFactory(site=site, parent=line, tag="P-old", state=AssetState.DECOMMISSIONED)
    AssetFactory(site=site, tag="P-elsewhere")
    plan = make_plan(
        local(BERLIN, 2025, 1, 1), scope="subtree", asset=line, starts_on=date(2025, 1, 6)
    )
    generate_at(local(BERLIN, 2025, 1, 6, 7))

    assert {wo.asset for wo in pm_work_orders(plan)} == {line, *pumps}


def test_an_equipment_class_plan_generates_for_the_class_at_its_site_only(site, make_plan):
    motor = EquipmentClassFactory(code="motor")
    motors = [AssetFactory(site=site, equipment_class=motor) for _ in range(2)]
    AssetFactory(site=site)
    AssetFactory(site=SiteFactory(), equipment_class=motor)
    plan = make_plan(
        local(BERLIN, 2025, 1, 1),
        scope="equipment_class",
        asset=None,
        equipment_class=motor,
        starts_on=date(2025, 1, 6),
    )
    generate_at(local(BERLIN, 2025, 1, 6, 7))

    assert {wo.asset for wo in pm_work_orders(plan)} == set(motors)


def test_parts_of_the_job_plan_are_reserved_and_a_shortfall_is_flagged(site, make_plan):
    bearing, seal = PartFactory(), PartFactory()
    store = StoreroomFactory(site=site)
    stock = StockFactory(part=bearing, storeroom=store, on_hand=Decimal("5"))
    job_plan = JobPlanFactory(parts=[(bearing, Decimal("2")), (seal, Decimal("1"))])
    plan = make_plan(local(BERLIN, 2025, 1, 1), job_plan=job_plan, starts_on=date(2025, 1, 6))
    generate_at(local(BERLIN, 2025, 1, 6, 7))

    [wo] = pm_work_orders(plan)
    stock.refresh_from_db()
    assert stock.reserved == Decimal("2")
    assert wo.waiting_for_parts and "Waiting for parts" in wo.needs_attention
    assert ReorderSuggestion.objects.filter(work_order=wo, part=seal).exists()


def test_generation_queries_do_not_grow_with_the_number_of_plans(site, job_plan):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def plans(n):
        with time_machine.travel(local(BERLIN, 2025, 1, 1), tick=False):
            return [
                pm_plan_save(
                    site=site,
                    asset=AssetFactory(site=site),
                    name=f"PM {n}-{i}",
                    job_plan=job_plan,
                    interval=1,
                    interval_unit="month",
                    starts_on=date(2025, 1, 6),
                ).pk
                for i in range(n)
            ]

    few, many = plans(5), plans(50)
    counts = []
    for ids in (few, many):
        with CaptureQueriesContext(connection) as queries:
            result = pm_generate_due(now=local(BERLIN, 2025, 1, 6, 7), plan_ids=ids)
        counts.append(len(queries))
        assert result.generated == len(ids)
    # SQLite splits large INSERTs by its parameter limit: a few batches more for 45 more plans
    # (a work order row has some 60 columns), never one per plan.
    assert counts[1] - counts[0] <= (0 if connection.vendor == "postgresql" else 4)
    # 21: one look-up of the outbound endpoints that want `pm.generated` (integrations).
    assert counts[1] <= (21 if connection.vendor == "postgresql" else 21 + 4)  # the batches
    assert PMOccurrence.objects.count() == 55


def test_a_new_plan_whose_first_due_date_is_inside_its_lead_window_is_generated_on_time(
    make_plan,
):
    # Created on 1 March at 10:00; due 4 March 06:00 with 7 days' lead, so its generation time
    # (25 February) lies before the plan existed: nothing was missed.
    plan = make_plan(
        local(BERLIN, 2025, 3, 1, 10), starts_on=date(2025, 3, 4), lead_days=7, interval=1
    )
    result = generate_at(local(BERLIN, 2025, 3, 1, 10, 30))

    [wo] = pm_work_orders(plan)
    assert (result.generated, result.late) == (1, 0)
    assert not wo.pm_occurrence.late
    assert wo.pm_occurrence.reason == ""
    assert wo.needs_attention == ""
    assert "late" not in wo.description.lower()
    assert "(late)" not in wo.events.get().message


def test_a_new_daily_plan_started_in_the_past_generates_its_catch_up_on_time(make_plan):
    plan = make_plan(
        local(BERLIN, 2025, 4, 10, 9),
        starts_on=date(2025, 4, 11),
        interval=1,
        interval_unit="day",
        lead_days=3,
        skip_while_open=False,
    )
    generate_at(local(BERLIN, 2025, 4, 10, 9, 30))

    assert [d.day for d in local_dues(plan)] == [11, 12, 13]
    assert [o.late for o in occurrences(plan)] == [False, False, False]


def test_an_occurrence_whose_generation_time_passed_after_the_plan_existed_is_late(make_plan):
    plan = make_plan(
        local(BERLIN, 2025, 2, 20, 10), starts_on=date(2025, 3, 4), lead_days=7, interval=1
    )
    # Its generation time, 25 February 06:00, passed with the scheduler down until 1 March.
    generate_at(local(BERLIN, 2025, 3, 1, 12))

    [wo] = pm_work_orders(plan)
    assert wo.pm_occurrence.late
    assert wo.needs_attention == (
        "Generated late: missed occurrence of 2025-03-04 06:00 CET (due 2025-03-04 06:00 CET)."
    )


def test_a_new_plan_is_late_only_when_generation_comes_after_the_grace_from_its_creation(
    make_plan,
):
    plan = make_plan(
        local(BERLIN, 2025, 3, 1, 10), starts_on=date(2025, 3, 4), lead_days=7, interval=1
    )
    # The default grace is 60 minutes: a first run 61 minutes after creation missed it.
    generate_at(local(BERLIN, 2025, 3, 1, 11, 1))

    assert [o.late for o in occurrences(plan)] == [True]


def test_a_reactivated_plan_does_not_count_its_paused_time_as_missed(make_plan):
    plan = make_plan(
        local(BERLIN, 2025, 1, 1, 10), starts_on=date(2025, 1, 1), lead_days=7, interval=1
    )
    with time_machine.travel(local(BERLIN, 2025, 1, 1, 11), tick=False):
        pm_plan_save(plan=plan, is_active=False)
    with time_machine.travel(local(BERLIN, 2025, 2, 27, 9), tick=False):
        pm_plan_save(plan=plan, is_active=True)
    generate_at(local(BERLIN, 2025, 2, 27, 9, 30))

    assert [(o.due_at.astimezone(o.due_at.tzinfo).date(), o.late) for o in occurrences(plan)] == [
        (date(2025, 3, 1), False)
    ]


def test_lengthening_the_lead_of_a_plan_does_not_mark_its_next_occurrence_late(make_plan):
    plan = make_plan(local(BERLIN, 2025, 1, 1, 10), starts_on=date(2025, 2, 10), interval=1)
    # On 5 February the lead grows to 7 days: the 10 February occurrence's generation time
    # (3 February) is now in the past, but nothing could have generated it then.
    with time_machine.travel(local(BERLIN, 2025, 2, 5, 9), tick=False):
        pm_plan_save(plan=plan, lead_days=7)
    generate_at(local(BERLIN, 2025, 2, 5, 9, 15))

    [wo] = pm_work_orders(plan)
    assert wo.planned_due_at == local(BERLIN, 2025, 2, 10, 6, 0)
    assert not wo.pm_occurrence.late and wo.needs_attention == ""
