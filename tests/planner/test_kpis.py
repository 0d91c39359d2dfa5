"""The dashboard figures on the known plant of conftest.py, worked out by hand there."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts.models import Alert
from assets.models import Asset
from tests.factories import AssetFactory, EquipmentClassFactory, SiteFactory, WorkOrderFactory
from workorders import selectors
from workorders.choices import Source, WorkOrderType
from workorders.models import WorkOrder

# Depends on the site's day: runs at midday and just before midnight (tests.clock).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site_clock")]


def scoped(known):
    return {
        "work_orders": WorkOrder.objects.for_user(known.planner),
        "alerts": Alert.objects.for_user(known.planner),
        "assets": Asset.objects.for_user(known.planner),
    }


def figures(known):
    return selectors.dashboard(**scoped(known), start=known.start, end=known.end, now=known.now)


def test_backlog_counts_open_work_by_priority_and_age(known):
    rows = {row.priority: row.by_age for row in figures(known).backlog}
    assert rows == {1: [0, 0, 0, 0], 2: [0, 0, 0, 0], 3: [2, 1, 0, 0], 4: [1, 1, 0, 0]}


def test_pm_compliance_counts_cancelled_pm_as_missed_and_ignores_pm_due_outside(known):
    pm = figures(known).pm
    assert (pm.due, pm.on_time, pm.late, pm.not_done) == (4, 1, 1, 2)
    assert pm.percent == 25.0


def test_mttr_and_mtbf_per_equipment_class(known):
    rows = {r.equipment_class: r for r in figures(known).reliability}
    assert (rows["Pump"].assets, rows["Pump"].failures, rows["Pump"].repairs) == (4, 4, 2)
    assert rows["Pump"].mttr_hours == 3.0
    assert rows["Pump"].mtbf_hours == 720.0
    assert (rows["Fan"].assets, rows["Fan"].failures, rows["Fan"].repairs) == (1, 2, 1)
    assert rows["Fan"].mttr_hours == 1.0
    assert rows["Fan"].mtbf_hours == 360.0


def test_a_class_without_failures_has_no_mtbf(known):
    from tests.factories import EquipmentClassFactory

    AssetFactory(site=known.site, equipment_class=EquipmentClassFactory(code="mixer"))
    rows = {r.equipment_class: r for r in figures(known).reliability}
    assert (rows["Mixer"].failures, rows["Mixer"].mtbf_hours, rows["Mixer"].mttr_hours) == (
        0,
        None,
        None,
    )


def test_planned_vs_unplanned_counts_work_created_in_the_period(known):
    planned = figures(known).planned
    assert (planned.planned, planned.unplanned) == (4, 6)
    assert planned.planned_percent == 40.0
    assert sum(w.planned + w.unplanned for w in planned.weeks) == 10


def test_the_alert_funnel_narrows_from_alerts_to_work_orders(known):
    funnel = figures(known).funnel
    assert funnel.steps == [
        ("Alerts received", 5),
        ("Processed with a work order", 3),
        ("Work orders created", 2),
    ]
    assert (funnel.recorded, funnel.unmatched) == (1, 1)


def test_top_assets_rank_by_failures_then_repair_hours(known):
    top = figures(known).top_assets
    assert [(a.tag, a.failures, a.repair_hours) for a in top] == [
        ("P-0", 3, 6.0),
        ("FAN-1", 2, 1.0),
        ("P-1", 1, 0.0),
    ]


def test_overdue_lists_open_work_past_its_due_date(known):
    data = figures(known)
    assert data.overdue_total == 1
    assert data.overdue[0].pm_plan_id is not None


def test_another_sites_work_does_not_count_for_the_planner(known):
    other = SiteFactory(code="elsewhere")
    for _ in range(3):
        WorkOrderFactory(site=other)
    data = figures(known)
    assert sum(row.total for row in data.backlog) == 5


def test_the_dashboard_takes_a_bounded_number_of_queries(known, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        figures(known)


def add_work(known, count: int) -> None:
    """`count` more work orders of every type, source and priority over the period."""
    valve = EquipmentClassFactory()
    assets = [AssetFactory(site=known.site, equipment_class=valve) for _ in range(5)]
    day = (known.end - known.start) / 30
    WorkOrder.objects.bulk_create(
        WorkOrder(
            site=known.site,
            asset=assets[i % 5],
            title=f"More work {i}",
            type=list(WorkOrderType)[i % 4],
            source=list(Source)[i % 4],
            priority=1 + i % 4,
            created_at=known.now - (i % 25) * day,
            due_at=known.now - (i % 3) * day,
            planned_due_at=known.now - (i % 7) * day,
        )
        for i in range(count)
    )


def test_the_dashboard_costs_the_same_queries_whatever_the_amount_of_work(known):
    # Beyond the first screenful of overdue work (which needs a count), the number of queries
    # does not move with the data.
    add_work(known, 100)
    with CaptureQueriesContext(connection) as smaller:
        figures(known)
    add_work(known, 900)
    with CaptureQueriesContext(connection) as larger:
        data = figures(known)
    assert data.backlog_total > 1000
    assert len(larger.captured_queries) == len(smaller.captured_queries)
