"""Labour is priced when its hours become final, at the rate that applied that day."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import time_machine

from tests.factories import LabourRateFactory, WorkOrderFactory, move_to
from workorders.choices import Status
from workorders.costs import work_order_cost
from workorders.services import labour_add, work_order_transition

MONDAY = datetime(2026, 11, 2, 8, tzinfo=UTC)


def test_the_clock_stopped_on_hold_prices_the_automatic_entry(db, site, pump, technician):
    LabourRateFactory(technician=technician, hourly_cost=Decimal("50.00"))
    with time_machine.travel(MONDAY, tick=False):
        wo = move_to(WorkOrderFactory(site=site, asset=pump, assignee=technician), Status.SCHEDULED)
        work_order_transition(work_order=wo, to=Status.IN_PROGRESS, by=technician)
        running = wo.labour.get()
        assert (running.cost_rate, running.cost) == (None, None)  # not final yet
    with time_machine.travel(MONDAY + timedelta(hours=1, minutes=30), tick=False):
        work_order_transition(work_order=wo, to=Status.ON_HOLD, by=technician, reason="parts")
    entry = wo.labour.get()
    # 1.5 h x 50.00
    assert (entry.hours, entry.cost_rate, entry.cost) == (
        Decimal("1.50"),
        Decimal("50.00"),
        Decimal("75.00"),
    )
    assert work_order_cost(wo).labour == Decimal("75.00")


def test_a_new_rate_does_not_rewrite_past_costs(db, site, pump, technician):
    LabourRateFactory(hourly_cost=Decimal("40.00"))

    with time_machine.travel(MONDAY, tick=False):
        wo = move_to(WorkOrderFactory(site=site, asset=pump), Status.IN_PROGRESS)
        first = labour_add(work_order=wo, technician=technician, hours=1)
    LabourRateFactory(hourly_cost=Decimal("45.00"), valid_from=MONDAY.date() + timedelta(days=1))
    with time_machine.travel(MONDAY + timedelta(days=1, hours=4), tick=False):
        second = labour_add(work_order=wo, technician=technician, hours=1)
    first.refresh_from_db()
    assert (first.cost, second.cost) == (Decimal("40.00"), Decimal("45.00"))
