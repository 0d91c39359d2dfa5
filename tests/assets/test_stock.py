"""Stock never goes negative: services check under row locks, the database enforces it too."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from assets.choices import MovementKind
from assets.models import Stock, StockMovement
from assets.services import (
    stock_adjust,
    stock_receive,
    stock_release,
    stock_reserve,
    stock_return,
)
from cmms.errors import InsufficientStock
from tests.factories import StockFactory, WorkOrderFactory, move_to
from workorders.choices import Status
from workorders.services import work_order_issue_part


@pytest.fixture
def stock_and_work(db):
    stock = StockFactory(on_hand=Decimal("10"))
    wo = move_to(WorkOrderFactory(site=stock.storeroom.site), Status.IN_PROGRESS)
    return stock, wo


def test_issuing_parts_writes_a_ledger_row_and_lowers_on_hand(stock_and_work):
    stock, wo = stock_and_work
    movement = work_order_issue_part(work_order=wo, stock=stock, quantity=3)
    stock.refresh_from_db()
    assert stock.on_hand == Decimal("7")
    assert (movement.kind, movement.quantity, movement.on_hand_after) == (
        MovementKind.ISSUE,
        Decimal("-3"),
        Decimal("7"),
    )
    assert movement.work_order == wo
    assert wo.events.filter(kind="parts").exists()


def test_issuing_more_than_available_is_refused_and_changes_nothing(stock_and_work):
    stock, wo = stock_and_work
    stock_reserve(stock=stock, quantity=8)
    with pytest.raises(InsufficientStock) as refused:
        work_order_issue_part(work_order=wo, stock=stock, quantity=3)
    assert "Only 2" in str(refused.value)
    stock.refresh_from_db()
    assert (stock.on_hand, stock.reserved) == (Decimal("10"), Decimal("8"))
    assert not StockMovement.objects.filter(kind=MovementKind.ISSUE).exists()


def test_parts_cannot_be_issued_from_another_sites_storeroom(stock_and_work):
    _, wo = stock_and_work
    foreign = StockFactory()
    with pytest.raises(ValidationError):
        work_order_issue_part(work_order=wo, stock=foreign, quantity=1)


@pytest.mark.parametrize("quantity", ["0", "-1"])
def test_quantities_must_be_positive(stock_and_work, quantity):
    stock, wo = stock_and_work
    with pytest.raises(ValidationError) as refused:
        work_order_issue_part(work_order=wo, stock=stock, quantity=Decimal(quantity))
    assert "quantity" in refused.value.message_dict


def test_returns_are_limited_to_what_was_issued(stock_and_work):
    stock, wo = stock_and_work
    work_order_issue_part(work_order=wo, stock=stock, quantity=2)
    stock_return(stock=stock, quantity=1, work_order=wo)
    with pytest.raises(ValidationError):
        stock_return(stock=stock, quantity=2, work_order=wo)
    stock.refresh_from_db()
    assert stock.on_hand == Decimal("9")


def test_receipts_and_adjustments_are_in_the_ledger(stock_and_work):
    stock, _ = stock_and_work
    stock_receive(stock=stock, quantity=5, reason="PO 4711")
    stock_adjust(stock=stock, counted=12, reason="cycle count")
    stock.refresh_from_db()
    assert stock.on_hand == Decimal("12")
    kinds = list(stock.movements.order_by("id").values_list("kind", "quantity"))
    assert kinds == [(MovementKind.RECEIPT, Decimal("5")), (MovementKind.ADJUSTMENT, Decimal("-3"))]


def test_an_adjustment_cannot_count_below_what_is_reserved(stock_and_work):
    stock, _ = stock_and_work
    stock_reserve(stock=stock, quantity=4)
    with pytest.raises(ValidationError):
        stock_adjust(stock=stock, counted=3, reason="count")


def test_reservations_never_exceed_what_is_available(stock_and_work):
    stock, _ = stock_and_work
    assert stock_reserve(stock=stock, quantity=6) == Decimal("6")
    assert stock_reserve(stock=stock, quantity=6) == Decimal("4")
    assert stock_reserve(stock=stock, quantity=1) == Decimal("0")
    stock_release(stock=stock, quantity=5)
    stock.refresh_from_db()
    assert stock.reserved == Decimal("5")


def test_the_database_refuses_negative_stock_even_without_the_services(stock_and_work):
    stock, _ = stock_and_work
    with pytest.raises(IntegrityError), transaction.atomic():
        Stock.objects.filter(pk=stock.pk).update(on_hand=Decimal("-1"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Stock.objects.filter(pk=stock.pk).update(reserved=Decimal("11"))


def test_low_stock_counts_reservations_as_gone(db):
    ok = StockFactory(on_hand=10, reorder_point=2)
    low = StockFactory(on_hand=10, reorder_point=2)
    stock_reserve(stock=low, quantity=8)
    assert list(Stock.objects.low()) == [low]
    assert ok not in Stock.objects.low()


@pytest.mark.postgresql(reason="concurrent issues wait on row locks; SQLite locks the database")
@pytest.mark.django_db(transaction=True)
def test_concurrent_issues_never_take_stock_below_zero():
    """Eight real database connections issue 3 each from 10 on hand: exactly 3 succeed."""
    stock = StockFactory(on_hand=Decimal("10"))
    wo = move_to(WorkOrderFactory(site=stock.storeroom.site), Status.IN_PROGRESS)
    workers = 8
    barrier = threading.Barrier(workers)
    outcomes: list[str] = []
    lock = threading.Lock()

    def issue():
        try:
            barrier.wait()
            work_order_issue_part(work_order=wo, stock=stock, quantity=3)
            result = "issued"
        except InsufficientStock:
            result = "refused"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=issue) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    stock.refresh_from_db()
    assert sorted(outcomes) == ["issued"] * 3 + ["refused"] * 5
    assert stock.on_hand == Decimal("1")
    ledger = StockMovement.objects.filter(stock=stock, kind=MovementKind.ISSUE)
    assert ledger.count() == 3
    assert sum(m.quantity for m in ledger) == Decimal("-9")
    assert sorted(m.on_hand_after for m in ledger) == [Decimal("1"), Decimal("4"), Decimal("7")]
