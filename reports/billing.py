"""Billable lines per customer and period, for the partner's accounting (docs/costs.md).

Per contract of the customer, over the work orders under that contract (`WorkOrder.contract`,
whatever the contract's term or `is_active` today; work outside any contract is not billed
here):
- labour: each labour entry whose hours ended in the period, at the billing rate of the work's
  required skill (`BillingRate`), else the contract's `labour_rate`; overtime entries at that
  rate x `overtime_multiplier`;
- parts: each issue (and return, negative) in the period, at its cost x (1 + parts markup);
- services: each external service line created in the period x (1 + services markup);
- the monthly fee of an active contract, once per calendar month that starts in the period and
  that the contract's term overlaps;
- what the fee covers: with `fee_covers_preventive`, the lines of preventive and inspection
  work are listed as usual, followed by one `covered` line per work order crediting their sum,
  so the bill shows the work and nets it to 0.
Every line carries its work order's number, so it can be traced. Amounts are rounded half-up
to cents per line; unit prices of parts keep four places like unit costs. All amounts are in
the customer's currency.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import astuple, dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import tablib
from django.utils import timezone

from assets.choices import MovementKind
from assets.models import StockMovement
from cmms.spreadsheets import neutralise_formula
from contracts.models import BillingRate, Contract
from reports.months import next_month
from workorders.choices import WorkOrderType
from workorders.costs import to_cents
from workorders.models import LabourEntry, ServiceLine, WorkOrder

COVERED_TYPES = (WorkOrderType.PREVENTIVE, WorkOrderType.INSPECTION)
HUNDRED = Decimal("100")


class Kind:
    LABOUR = "labour"
    OVERTIME = "overtime"
    PARTS = "parts"
    SERVICES = "services"
    FEE = "fee"
    COVERED = "covered"


# The order of a work order's lines on the bill.
_KIND_ORDER = {
    k: n
    for n, k in enumerate(
        [Kind.FEE, Kind.LABOUR, Kind.OVERTIME, Kind.PARTS, Kind.SERVICES, Kind.COVERED]
    )
}


@dataclass(frozen=True)
class BillingLine:
    contract: str  # the contract's reference
    work_order: str  # the work order's number ("" for the fee)
    site: str  # the site's code ("" for the fee)
    date: date
    kind: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    currency: str


COLUMNS = [
    "contract",
    "work_order",
    "site",
    "date",
    "kind",
    "description",
    "quantity",
    "unit_price",
    "amount",
    "currency",
]


def billing_lines(*, customer, start: datetime, end: datetime, sites=None) -> list[BillingLine]:
    """The customer's billable lines in [start, end), limited to `sites` (ids or a queryset:
    the sites a planner may see) when given.

    Work is billed under the contract it was done under, whatever that contract's term or
    `is_active` says today: ending or deactivating a contract never takes back a bill. The
    monthly fee is billed only for a contract active and in force in the month and, when
    `sites` is given, covering one of them (a planner never sees the fee, nor the reference,
    of a contract of sites they do not work at)."""
    contracts = Contract.objects.filter(customer=customer).order_by("reference")
    fee_contracts = Contract.objects.filter(customer=customer, is_active=True)
    if sites is not None:
        fee_contracts = fee_contracts.filter(
            pk__in=Contract.sites.through.objects.filter(site_id__in=sites).values("contract_id")
        )
    with_fee = set(fee_contracts.values_list("pk", flat=True))
    lines: list[BillingLine] = []
    for contract in contracts:
        lines += _contract_lines(
            contract, start=start, end=end, sites=sites, fee=contract.pk in with_fee
        )
    return lines


def _contract_lines(contract, *, start, end, sites, fee: bool) -> list[BillingLine]:
    currency = contract.customer.currency
    work = WorkOrder.objects.filter(contract=contract)
    if sites is not None:
        work = work.filter(site__in=sites)
    rates = dict(
        BillingRate.objects.filter(contract=contract).values_list("skill_id", "hourly_rate")
    )
    per_work: dict[int, list[BillingLine]] = defaultdict(list)
    orders: dict[int, WorkOrder] = {}

    def line(wo: WorkOrder, when: datetime, kind: str, description, quantity, unit_price, amount):
        orders[wo.pk] = wo
        per_work[wo.pk].append(
            BillingLine(
                contract=contract.reference,
                work_order=wo.number,
                site=wo.site.code,
                date=timezone.localdate(when, ZoneInfo(wo.site.timezone)),
                kind=kind,
                description=description,
                quantity=quantity,
                unit_price=unit_price,
                amount=amount,
                currency=currency,
            )
        )

    for entry in (
        LabourEntry.objects.filter(work_order__in=work, ended_at__gte=start, ended_at__lt=end)
        .select_related("work_order__site", "technician")
        .order_by("ended_at", "pk")
    ):
        wo = entry.work_order
        rate = rates.get(wo.required_skill_id, contract.labour_rate)
        kind = Kind.LABOUR
        if entry.overtime:
            rate, kind = to_cents(rate * contract.overtime_multiplier), Kind.OVERTIME
        name = entry.technician.get_full_name() or entry.technician.username
        line(
            wo,
            entry.ended_at,
            kind,
            f"{kind.title()} {name}",
            entry.hours,
            rate,
            to_cents(entry.hours * rate),
        )

    parts_factor = 1 + contract.parts_markup_percent / HUNDRED
    for movement in (
        StockMovement.objects.filter(
            work_order__in=work,
            kind__in=[MovementKind.ISSUE, MovementKind.RETURN],
            created_at__gte=start,
            created_at__lt=end,
        )
        .select_related("work_order__site", "stock__part")
        .order_by("created_at", "pk")
    ):
        unit_cost = movement.unit_cost or Decimal("0")
        quantity = -movement.quantity
        part = movement.stock.part
        verb = "Return" if movement.kind == MovementKind.RETURN else "Part"
        line(
            movement.work_order,
            movement.created_at,
            Kind.PARTS,
            f"{verb} {part.sku} {part.name}",
            quantity,
            (unit_cost * parts_factor).quantize(Decimal("0.0001"), ROUND_HALF_UP),
            to_cents(quantity * unit_cost * parts_factor),
        )

    services_factor = 1 + contract.services_markup_percent / HUNDRED
    for service in (
        ServiceLine.objects.filter(work_order__in=work, created_at__gte=start, created_at__lt=end)
        .select_related("work_order__site")
        .order_by("created_at", "pk")
    ):
        price = to_cents(service.amount * services_factor)
        line(
            service.work_order,
            service.created_at,
            Kind.SERVICES,
            f"{service.vendor}: {service.description}",
            Decimal("1"),
            price,
            price,
        )

    lines = _fee_lines(contract, start=start, end=end, currency=currency) if fee else []
    for pk in sorted(per_work, key=lambda pk: orders[pk].number):
        work_lines = sorted(per_work[pk], key=lambda x: (x.date, _KIND_ORDER[x.kind]))
        lines += work_lines
        wo = orders[pk]
        if contract.fee_covers_preventive and wo.type in COVERED_TYPES:
            covered = sum((x.amount for x in work_lines), Decimal("0.00"))
            lines.append(
                BillingLine(
                    contract=contract.reference,
                    work_order=wo.number,
                    site=wo.site.code,
                    date=work_lines[-1].date,
                    kind=Kind.COVERED,
                    description=f"Covered by the monthly fee ({wo.get_type_display().lower()})",
                    quantity=Decimal("1"),
                    unit_price=-covered,
                    amount=-covered,
                    currency=currency,
                )
            )
    return lines


def _fee_lines(contract, *, start, end, currency) -> list[BillingLine]:
    """The monthly fee for each month whose first day lies in the period and that the
    contract's term overlaps."""
    if not contract.monthly_fee:
        return []
    lines = []
    month = date(start.year, start.month, 1)
    if month < start.date():
        month = next_month(month)
    while month < end.date():
        # Billed for every month the contract overlaps, even partly.
        if contract.starts_on < next_month(month) and (
            contract.ends_on is None or contract.ends_on >= month
        ):
            lines.append(
                BillingLine(
                    contract=contract.reference,
                    work_order="",
                    site="",
                    date=month,
                    kind=Kind.FEE,
                    description=f"Monthly fee {month:%Y-%m} ({contract.name})",
                    quantity=Decimal("1"),
                    unit_price=contract.monthly_fee,
                    amount=contract.monthly_fee,
                    currency=currency,
                )
            )
        month = next_month(month)
    return lines


def billing_total(lines: list[BillingLine]) -> Decimal:
    return sum((x.amount for x in lines), Decimal("0.00"))


# ---------------------------------------------------------------- export


def billing_dataset(lines: list[BillingLine]):
    """The lines as a table (tablib), text cells formula-safe (cmms.spreadsheets), numbers and
    dates typed; a last row totals the amounts."""
    dataset = tablib.Dataset(headers=COLUMNS)
    for x in lines:
        dataset.append([neutralise_formula(value) for value in astuple(x)])
    if lines:
        dataset.append(
            ["", "", "", "", "total", "", "", "", billing_total(lines), lines[0].currency]
        )
    return dataset


def billing_csv(lines: list[BillingLine]) -> bytes:
    return billing_dataset(lines).export("csv").encode("utf-8-sig")


def billing_xlsx(lines: list[BillingLine]) -> bytes:
    return billing_dataset(lines).export("xlsx")
