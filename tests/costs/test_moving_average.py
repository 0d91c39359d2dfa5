"""Stock is valued at a moving average: receipts move it, every movement records its cost."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from assets.choices import MovementKind
from assets.services import stock_adjust, stock_receive, stock_return
from tests.factories import PartFactory, StockFactory, WorkOrderFactory, move_to
from workorders.choices import Status
from workorders.costs import work_order_cost
from workorders.services import work_order_issue_part


@pytest.fixture
def empty_stock(db):
    return StockFactory(on_hand=Decimal("0"), part=PartFactory(unit_cost=Decimal("9.00")))


def test_the_average_follows_receipts_and_issues_computed_by_hand(empty_stock):
    stock = empty_stock
    wo = move_to(WorkOrderFactory(site=stock.storeroom.site), Status.IN_PROGRESS)

    first = stock_receive(stock=stock, quantity=10, unit_cost=Decimal("2.00"))
    # (0 x 0 + 10 x 2.00) / 10 = 2.0000
    second = stock_receive(stock=stock, quantity=5, unit_cost=Decimal("3.50"))
    # (10 x 2.00 + 5 x 3.50) / 15 = 37.50 / 15 = 2.5000
    issue = work_order_issue_part(work_order=wo, stock=stock, quantity=6)
    # 9 left at 2.5000; the issue is valued at 2.5000
    third = stock_receive(stock=stock, quantity=3, unit_cost=Decimal("4.00"))
    # (9 x 2.50 + 3 x 4.00) / 12 = 34.50 / 12 = 2.8750
    later_issue = work_order_issue_part(work_order=wo, stock=stock, quantity=2)
    # 10 left at 2.8750
    stock.refresh_from_db()

    assert [first.unit_cost, second.unit_cost, third.unit_cost] == [
        Decimal("2.0000"),
        Decimal("3.5000"),
        Decimal("4.0000"),
    ]
    assert issue.unit_cost == Decimal("2.5000")
    assert later_issue.unit_cost == Decimal("2.8750")
    assert (stock.on_hand, stock.average_cost) == (Decimal("10"), Decimal("2.8750"))
    # Parts cost: 6 x 2.50 + 2 x 2.875 = 15.00 + 5.75 = 20.75
    assert work_order_cost(wo).parts == Decimal("20.75")


def test_a_return_comes_back_at_the_cost_it_was_issued_at(empty_stock):
    stock = empty_stock
    wo = move_to(WorkOrderFactory(site=stock.storeroom.site), Status.IN_PROGRESS)
    stock_receive(stock=stock, quantity=4, unit_cost=Decimal("1.00"))
    work_order_issue_part(work_order=wo, stock=stock, quantity=4)  # at 1.00
    stock_receive(stock=stock, quantity=2, unit_cost=Decimal("4.00"))  # average now 4.00
    returned = stock_return(stock=stock, quantity=1, work_order=wo)
    stock.refresh_from_db()

    assert returned.unit_cost == Decimal("1.0000")
    # (2 x 4.00 + 1 x 1.00) / 3 = 3.0000
    assert stock.average_cost == Decimal("3.0000")
    # 4 x 1.00 - 1 x 1.00 = 3.00
    assert work_order_cost(wo).parts == Decimal("3.00")


def test_a_receipt_without_a_price_is_valued_at_the_average_or_else_the_list_price(empty_stock):
    stock = empty_stock
    first = stock_receive(stock=stock, quantity=2)
    stock_receive(stock=stock, quantity=2, unit_cost=Decimal("13.00"))  # average 11.00
    third = stock_receive(stock=stock, quantity=1)
    stock.refresh_from_db()

    assert first.unit_cost == Decimal("9.0000")  # the part's list price
    assert third.unit_cost == Decimal("11.0000")
    assert stock.average_cost == Decimal("11.0000")


def test_an_adjustment_is_valued_at_the_average_and_leaves_it(empty_stock):
    stock = empty_stock
    stock_receive(stock=stock, quantity=3, unit_cost=Decimal("0.0125"))
    adjustment = stock_adjust(stock=stock, counted=1, reason="count")
    stock.refresh_from_db()

    assert (adjustment.kind, adjustment.unit_cost) == (MovementKind.ADJUSTMENT, Decimal("0.0125"))
    assert stock.average_cost == Decimal("0.0125")


def test_the_average_is_rounded_half_up_to_four_places(empty_stock):
    stock = empty_stock
    stock_receive(stock=stock, quantity=2, unit_cost=Decimal("1.0000"))
    stock_receive(stock=stock, quantity=1, unit_cost=Decimal("1.0001"))
    stock.refresh_from_db()
    # 3.0001 / 3 = 1.000033.. -> 1.0000
    assert stock.average_cost == Decimal("1.0000")
    stock_receive(stock=stock, quantity=1, unit_cost=Decimal("1.0002"))
    stock.refresh_from_db()
    # (3 x 1.0000 + 1.0002) / 4 = 1.00005 -> 1.0001 (half up)
    assert stock.average_cost == Decimal("1.0001")


@pytest.mark.parametrize("unit_cost", ["-1", "abc", "NaN"])
def test_a_negative_or_unreadable_price_is_refused(empty_stock, unit_cost):
    with pytest.raises(ValidationError) as refused:
        stock_receive(stock=empty_stock, quantity=1, unit_cost=unit_cost)
    assert "unit_cost" in refused.value.message_dict
    empty_stock.refresh_from_db()
    assert empty_stock.on_hand == Decimal("0")
