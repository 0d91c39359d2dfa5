"""Work order costs and their roll-ups per asset, site and customer over a period, on a small
data set whose figures are computed by hand in the comments."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine

from assets.services import stock_receive
from tests.factories import (
    AssetFactory,
    CustomerFactory,
    LabourRateFactory,
    PartFactory,
    ServiceLineFactory,
    SiteFactory,
    SkillFactory,
    StockFactory,
    StoreroomFactory,
    TechnicianFactory,
    WorkOrderFactory,
    move_to,
)
from workorders.choices import Status
from workorders.costs import Cost, costs_by, costs_incurred, work_order_cost
from workorders.models import WorkOrder
from workorders.services import labour_add, work_order_issue_part

NOV = datetime(2026, 11, 1, tzinfo=UTC)
DEC = datetime(2026, 12, 1, tzinfo=UTC)


def at(day: int, month: int = 11, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


class Books:
    """Customer Acme (EUR) with sites s1 (asset a1) and s2 (asset a2); customer Yankee (USD)
    with site s3 and no USD labour rate."""

    def __init__(self):
        self.acme = CustomerFactory(name="Acme", currency="EUR")
        self.yankee = CustomerFactory(name="Yankee", currency="USD")
        self.s1 = SiteFactory(customer=self.acme, code="s1")
        self.s2 = SiteFactory(customer=self.acme, code="s2")
        self.s3 = SiteFactory(customer=self.yankee, code="s3")
        self.a1 = AssetFactory(site=self.s1)
        self.a2 = AssetFactory(site=self.s2)
        self.tina = TechnicianFactory(sites=[self.s1, self.s2, self.s3])
        self.carl = TechnicianFactory(sites=[self.s1, self.s2])
        electrical = SkillFactory(code="electrical")
        LabourRateFactory(hourly_cost=Decimal("40.00"), overtime_hourly_cost=Decimal("60.00"))
        LabourRateFactory(
            technician=self.tina,
            hourly_cost=Decimal("50.00"),
            overtime_hourly_cost=Decimal("75.00"),
        )
        LabourRateFactory(skill=electrical, hourly_cost=Decimal("45.00"))
        # An older technician rate that no longer applies, and a future one not yet.
        LabourRateFactory(
            technician=self.tina, hourly_cost=Decimal("1.00"), valid_from=datetime(2019, 1, 1)
        )
        LabourRateFactory(
            technician=self.tina, hourly_cost=Decimal("99.00"), valid_from=datetime(2027, 1, 1)
        )
        with time_machine.travel(at(2), tick=False):
            self.wo1 = move_to(WorkOrderFactory(site=self.s1, asset=self.a1), Status.IN_PROGRESS)
            self.wo2 = move_to(
                WorkOrderFactory(site=self.s1, asset=self.a1, required_skill=electrical),
                Status.IN_PROGRESS,
            )
            self.wo3 = move_to(WorkOrderFactory(site=self.s2, asset=self.a2), Status.IN_PROGRESS)
            self.wo4 = move_to(WorkOrderFactory(site=self.s3, asset=None), Status.IN_PROGRESS)
            stock = StockFactory(
                storeroom=StoreroomFactory(site=self.s1),
                part=PartFactory(),
                on_hand=Decimal("0"),
            )
            stock_receive(stock=stock, quantity=10, unit_cost=Decimal("2.00"))
        with time_machine.travel(at(10), tick=False):
            # wo1: tina 2 h x 50.00 = 100.00, overtime 1 h x 75.00 = 75.00; 3 parts x 2.00
            labour_add(work_order=self.wo1, technician=self.tina, hours=2)
            labour_add(work_order=self.wo1, technician=self.tina, hours=1, overtime=True)
            work_order_issue_part(work_order=self.wo1, stock=stock, quantity=3)
            # wo2: carl has no own rate; the electrical skill's 45.00 x 1.5 h = 67.50
            labour_add(work_order=self.wo2, technician=self.carl, hours="1.5")
            # wo3: tina's own rate applies at any site: 0.25 h x 50.00 = 12.50
            labour_add(work_order=self.wo3, technician=self.tina, hours="0.25")
            # wo4: no USD rate at all: unpriced
            labour_add(work_order=self.wo4, technician=self.tina, hours=1)
        with time_machine.travel(at(12), tick=False):
            ServiceLineFactory(work_order=self.wo1, amount=Decimal("120.00"))
            ServiceLineFactory(work_order=self.wo4, amount=Decimal("30.00"))
        with time_machine.travel(at(20, month=10), tick=False):
            # October: outside the period
            labour_add(work_order=self.wo3, technician=self.carl, hours=1)
        with time_machine.travel(at(1, month=12), tick=False):
            # December 1st, 12:00: outside the period (its end is exclusive)
            ServiceLineFactory(work_order=self.wo2, amount=Decimal("500.00"))


@pytest.fixture
def books(db):
    return Books()


def eur(labour="0", parts="0", services="0") -> Cost:
    return Cost(
        labour=Decimal(labour), parts=Decimal(parts), services=Decimal(services), currency="EUR"
    )


def test_each_work_order_costs_its_labour_parts_and_services(books):
    november = costs_by(work_orders=WorkOrder.objects.all(), start=NOV, end=DEC, group="work_order")
    assert november == {
        books.wo1.pk: eur(labour="175.00", parts="6.00", services="120.00"),
        books.wo2.pk: eur(labour="67.50"),
        books.wo3.pk: eur(labour="12.50"),
        books.wo4.pk: Cost(services=Decimal("30.00"), currency="USD", labour_unpriced=True),
    }
    assert november[books.wo1.pk].total == Decimal("301.00")


def test_everything_so_far_counts_every_period(books):
    # wo2: 67.50 + 500.00 (December); wo3: 12.50 + carl's October hour at the default 40.00
    assert work_order_cost(books.wo2) == eur(labour="67.50", services="500.00")
    assert work_order_cost(books.wo3).total == Decimal("52.50")


def test_costs_roll_up_per_asset_site_and_customer(books):
    work = WorkOrder.objects.all()
    by_asset = costs_by(work_orders=work, start=NOV, end=DEC, group="asset")
    by_site = costs_by(work_orders=work, start=NOV, end=DEC, group="site")
    by_customer = costs_by(work_orders=work, start=NOV, end=DEC, group="customer")

    # a1: wo1 + wo2 = labour 175.00 + 67.50, parts 6.00, services 120.00 = 368.50
    assert by_asset[books.a1.pk] == eur(labour="242.50", parts="6.00", services="120.00")
    assert by_asset[books.a1.pk].total == Decimal("368.50")
    assert by_asset[books.a2.pk] == eur(labour="12.50")
    assert by_asset[None].currency == "USD"  # wo4 has no asset
    assert by_site == {
        books.s1.pk: by_asset[books.a1.pk],
        books.s2.pk: eur(labour="12.50"),
        books.s3.pk: by_asset[None],
    }
    # Acme: 368.50 + 12.50 = 381.00
    assert by_customer[books.acme.pk].total == Decimal("381.00")
    assert by_customer[books.yankee.pk].labour_unpriced


def test_costs_incurred_sums_one_customers_work_and_refuses_to_name_a_mixed_currency(books):
    acme = costs_incurred(
        work_orders=WorkOrder.objects.filter(site__customer=books.acme), start=NOV, end=DEC
    )
    everyone = costs_incurred(work_orders=WorkOrder.objects.all(), start=NOV, end=DEC)
    assert acme == eur(labour="255.00", parts="6.00", services="120.00")
    assert everyone.currency == ""


def test_a_period_without_costs_is_empty(books):
    before_november = datetime(2026, 9, 1, tzinfo=UTC)
    assert (
        costs_by(
            work_orders=WorkOrder.objects.filter(pk=books.wo1.pk),
            start=before_november,
            end=NOV,
            group="site",
        )
        == {}
    )


def test_roll_ups_take_three_queries_whatever_the_number_of_work_orders(
    books, django_assert_num_queries
):
    with django_assert_num_queries(3):
        costs_by(work_orders=WorkOrder.objects.all(), start=NOV, end=DEC, group="customer")


def test_an_unknown_grouping_is_refused(books):
    with pytest.raises(ValueError):
        costs_by(work_orders=WorkOrder.objects.all(), start=NOV, end=DEC, group="planet")
