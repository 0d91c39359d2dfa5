"""The monthly report's figures on the known customer of conftest.py, worked out by hand."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contracts import attainment
from reports.figures import monthly_report, report_scope
from reports.months import parse_month, previous_month
from tests.factories import WorkOrderFactory
from tests.reports.conftest import NOW, at, oct_
from workorders.choices import Status, WorkOrderType
from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db

OCTOBER = date(2026, 10, 1)


def october(known, **kwargs):
    return monthly_report(report_scope(customer=known.customer, month=OCTOBER, now=NOW, **kwargs))


def test_the_month_runs_from_midnight_to_midnight_at_the_sites_across_the_clock_change(known):
    scope = report_scope(customer=known.customer, month=OCTOBER, now=NOW)
    assert scope.start == oct_(1) and scope.end == at(11, 1)
    assert scope.end - scope.start == timedelta(hours=745)
    assert scope.period_label == "October 2026" and scope.last_day == date(2026, 10, 31)


def test_sla_attainment_judges_each_work_order_once_in_the_month_its_resolution_was_decided(
    known,
):
    [row] = october(known).sla
    a = row.attainment
    assert row.contract == known.contract
    # W1 W2 W3 W5 W6 W9 W11; not the cancelled PM, the paused work, W4 (November) nor W13.
    assert (a.judged, a.response_met, a.resolution_met, a.both_met) == (7, 5, 5, 3)
    assert (a.response_percent, a.resolution_percent, a.both_percent) == (71.4, 71.4, 42.9)


def test_attainment_per_contract_gives_the_current_and_the_last_month_in_one_query(
    known, django_assert_num_queries
):
    periods = {
        "last": (oct_(1), oct_(1) + timedelta(hours=745)),
        "current": (oct_(1) + timedelta(hours=745), NOW + timedelta(days=30)),
    }
    with django_assert_num_queries(1):
        result = attainment.attainment_by_contract(
            WorkOrder.objects.all(), periods=periods, now=NOW
        )
    mine = result[known.contract.pk]
    assert mine["last"].judged == 7
    # W4: completed 1 November 10:00 before its due date, started before its response due.
    assert (mine["current"].judged, mine["current"].both_met) == (1, 1)


def test_work_whose_due_date_has_not_passed_is_not_judged_yet(known):
    periods = {"now": (oct_(1), NOW + timedelta(days=60))}
    before = attainment.attainment_by_contract(WorkOrder.objects.all(), periods=periods, now=NOW)
    assert before[known.contract.pk]["now"].judged == 8  # W13 is due on 20 November
    later = NOW + timedelta(days=15)
    after = attainment.attainment_by_contract(WorkOrder.objects.all(), periods=periods, now=later)
    assert after[known.contract.pk]["now"].judged == 9


def test_attainment_names_the_work_order_status_it_leaves_out_as_work_orders_do():
    assert attainment.CANCELLED == Status.CANCELLED


def test_pm_compliance_reuses_the_dashboards_definition(known):
    pm = october(known).pm
    assert (pm.due, pm.on_time, pm.late, pm.not_done) == (3, 1, 1, 1)
    assert pm.percent == 33.3


def test_work_done_counts_work_completed_in_the_month_by_type(known):
    report = october(known)
    counts = {row.type: row.count for row in report.work_done}
    assert counts == {
        WorkOrderType.CORRECTIVE: 3,  # W1 W2 W3; W4 was completed in November
        WorkOrderType.PREVENTIVE: 2,
        WorkOrderType.CONDITION_BASED: 3,
        WorkOrderType.INSPECTION: 0,
    }
    assert report.work_done_total == 8


def test_the_alert_funnel_narrows_from_alerts_to_work_orders(known):
    funnel = october(known).funnel
    assert (funnel.received, funnel.processed, funnel.work_orders) == (3, 2, 2)
    assert (funnel.recorded, funnel.unmatched) == (1, 0)


def test_condition_based_work_is_valued_at_the_assets_historic_repair_time(known):
    caught = october(known).caught
    rows = {row.asset_tag: row for row in caught.rows}
    assert caught.count == 3
    # W10 on P-1: P-1's corrective repairs 4 h, 2 h, 6 h -> 4 h x 200 = 800.00
    assert (rows["P-1"].mttr_hours, rows["P-1"].avoided_cost) == (
        Decimal("4.00"),
        Decimal("800.00"),
    )
    # W9 on P-2 (no corrective history): the pump class's 4, 2, 6, 8 h -> 5 h x 150 = 750.00
    assert (rows["P-2"].mttr_hours, rows["P-2"].avoided_cost) == (
        Decimal("5.00"),
        Decimal("750.00"),
    )
    # W16 on F-1: a repair history (48 h) but no downtime cost: no estimate.
    assert (rows["F-1"].mttr_hours, rows["F-1"].avoided_cost) == (Decimal("48.00"), None)
    assert (caught.avoided_hours, caught.avoided_cost) == (Decimal("9.0"), Decimal("1550.00"))


def test_mtbf_and_mttr_per_equipment_class_count_the_months_745_hours(known):
    rows = {r.equipment_class: r for r in october(known).reliability}
    # Pumps: 3 in service, 7 failures, 4 repairs (4 + 2 + 3 + 1 h); fans: 1, 3, 2 (48 + 2 h).
    assert (rows["Pump"].assets, rows["Pump"].failures, rows["Pump"].repairs) == (3, 7, 4)
    assert (rows["Pump"].mtbf_hours, rows["Pump"].mttr_hours) == (319.3, 2.5)
    assert (rows["Fan"].assets, rows["Fan"].failures, rows["Fan"].repairs) == (1, 3, 2)
    assert (rows["Fan"].mtbf_hours, rows["Fan"].mttr_hours) == (248.3, 25.0)


def test_top_assets_rank_by_failures_then_repair_hours(known):
    top = october(known).top_assets
    assert [(a.tag, a.failures, a.repair_hours) for a in top] == [
        ("P-1", 4, 7.0),
        ("P-2", 3, 51.0),
        ("F-1", 3, 50.0),
    ]


def test_fleet_availability_leaves_out_the_time_before_the_gateway_was_first_seen(known):
    fleet = october(known).fleet
    [(gateway, availability)] = fleet.gateways
    assert gateway == known.gateway
    assert availability.observed == timedelta(hours=505)
    assert availability.available == timedelta(hours=493)
    assert fleet.percent == 97.6


def test_another_customers_work_never_counts(known):
    WorkOrderFactory(site=known.other_site, type=WorkOrderType.CORRECTIVE)
    report = october(known)
    assert all(row.asset_tag != "G-1" for row in report.caught.rows)
    assert {a.tag for a in report.top_assets} == {"P-1", "P-2", "F-1"}
    globex = monthly_report(report_scope(customer=known.other_customer, month=OCTOBER, now=NOW))
    assert globex.work_done_total == 1 and globex.sla == []


def test_a_reader_sees_only_the_sites_they_hold(known):
    from tests.factories import SiteFactory

    second = SiteFactory(customer=known.customer, code="acme-south")
    scope = report_scope(customer=known.customer, month=OCTOBER, user=known.viewer, now=NOW)
    assert [s.code for s in scope.sites] == ["acme-north"]
    assert second.pk not in {s.pk for s in scope.sites}


def test_the_report_costs_the_same_queries_whatever_the_amount_of_work(known):
    with CaptureQueriesContext(connection) as smaller:
        october(known)
    for i in range(30):
        wo = WorkOrderFactory(site=known.site, asset=[known.p1, known.p2, known.f1][i % 3])
        WorkOrder.objects.filter(pk=wo.pk).update(
            type=WorkOrderType.CONDITION_BASED,
            status=Status.COMPLETED,
            contract=known.contract,
            created_at=oct_(3, 8),
            started_at=oct_(3, 9),
            completed_at=oct_(3, 10),
            response_due_at=oct_(3, 12),
            resolution_due_at=oct_(4, 8),
        )
    with CaptureQueriesContext(connection) as larger:
        report = october(known)
    assert report.caught.count == 33
    assert len(larger.captured_queries) == len(smaller.captured_queries)
    assert len(larger.captured_queries) <= 26


def test_months_are_read_from_their_iso_form_only():
    assert parse_month("2026-10") == OCTOBER
    assert parse_month("2026-1") is None and parse_month("2026-13") is None
    assert parse_month("x") is None and parse_month("0000-01") is None
    assert previous_month(date(2026, 1, 15)) == date(2025, 12, 1)


def test_costs_against_the_contract_show_the_fee_and_what_was_billed_on_top(known):
    from tests.factories import ServiceLineFactory
    from workorders.models import ServiceLine

    corrective = ServiceLineFactory(work_order=known.w1, amount=Decimal("100.00"))
    preventive = ServiceLineFactory(work_order=known.w5, amount=Decimal("50.00"))
    november = ServiceLineFactory(work_order=known.w4, amount=Decimal("70.00"))
    ServiceLine.objects.filter(pk=corrective.pk).update(created_at=oct_(2, 15))
    ServiceLine.objects.filter(pk=preventive.pk).update(created_at=oct_(14, 12))
    ServiceLine.objects.filter(pk=november.pk).update(created_at=at(11, 1, 12))
    [row] = october(known).costs
    assert row.contract == known.contract
    # Fee 1000.00; services 100 + 50; the preventive 50 is covered by the fee.
    assert (row.fee, row.services, row.labour, row.parts) == (
        Decimal("1000.00"),
        Decimal("150.00"),
        Decimal("0.00"),
        Decimal("0.00"),
    )
    assert (row.covered, row.on_top, row.total) == (
        Decimal("50.00"),
        Decimal("100.00"),
        Decimal("1100.00"),
    )
    assert row.work_orders == 2


def test_a_contract_with_only_its_fee_still_shows_the_fee(known):
    [row] = october(known).costs
    assert (row.fee, row.on_top, row.total, row.work_orders) == (
        Decimal("1000.00"),
        Decimal("0.00"),
        Decimal("1000.00"),
        0,
    )


def test_months_without_bounds_in_every_zone_are_not_months():
    assert parse_month("0001-12") is None and parse_month("9999-01") is None
    assert parse_month("0002-01") == date(2, 1, 1)
    assert parse_month("9998-12") == date(9998, 12, 1)


@pytest.mark.parametrize(
    "change",
    [{"starts_on": date(2026, 1, 1), "ends_on": date(2026, 9, 30)}, {"is_active": False}],
    ids=["ended", "deactivated"],
)
def test_costs_keep_the_work_of_an_ended_or_deactivated_contract_without_its_fee(known, change):
    from contracts.models import Contract
    from tests.factories import ServiceLineFactory
    from workorders.models import ServiceLine

    corrective = ServiceLineFactory(work_order=known.w1, amount=Decimal("100.00"))
    ServiceLine.objects.filter(pk=corrective.pk).update(created_at=oct_(2, 15))
    Contract.objects.filter(pk=known.contract.pk).update(**change)
    [row] = october(known).costs
    assert (row.fee, row.services, row.total, row.work_orders) == (
        Decimal("0.00"),
        Decimal("100.00"),
        Decimal("100.00"),
        1,
    )
