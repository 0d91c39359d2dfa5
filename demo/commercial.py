"""Demo contracts, calendars and costs: what the partner sold each customer and at what price.

Rheinwerk Chemie (Berlin) pays in euros, Lakeshore Foods (Chicago and Singapore) in dollars.
Each customer has one contract covering its plants, with response and resolution targets per
priority (emergencies around the clock, the rest in the plant's business hours), clock-pausing
hold reasons, billing terms and a not-to-exceed amount; each plant has its working calendar
with the public holidays of the demo's year; technicians have cost rates; equipment has a
downtime cost per hour for the monthly report's estimate of downtime avoided.
"""

import datetime
from datetime import timedelta
from decimal import Decimal

from assets.choices import AssetLevel, Criticality, MovementKind
from assets.models import Asset, Customer, Site, StockMovement
from contracts.choices import SlaClock
from contracts.models import (
    BillingRate,
    BusinessCalendar,
    Contract,
    Holiday,
    LabourRate,
    SlaTarget,
)
from contracts.sla import sla_fields_for_new, sla_state_at
from workorders.choices import HoldReason, Priority, Status, WorkOrderType
from workorders.costs import labour_entry_price
from workorders.models import LabourEntry, ServiceLine, WorkOrder
from workorders.services import work_order_client_decide, work_order_estimate_set

CURRENCY = {"Rheinwerk Chemie GmbH": "EUR", "Lakeshore Foods Inc.": "USD"}
RECIPIENTS = {
    "Rheinwerk Chemie GmbH": "klaus.becker@rheinwerk.example\nwerksleitung@rheinwerk.example",
    "Lakeshore Foods Inc.": "maintenance-reports@lakeshore.example",
}

# site code -> working weekdays (0 Monday), day starts, day ends
CALENDARS = {
    "ber": ([0, 1, 2, 3, 4], datetime.time(7, 0), datetime.time(16, 0)),
    "chi": ([0, 1, 2, 3, 4], datetime.time(8, 0), datetime.time(17, 0)),
    "sin": ([0, 1, 2, 3, 4, 5], datetime.time(8, 30), datetime.time(17, 30)),
}
# site code -> (month, day, name): fixed-date public holidays, every year of the demo
HOLIDAYS = {
    "ber": [(1, 1, "New Year's Day"), (5, 1, "Labour Day"), (10, 3, "German Unity Day"),
            (12, 25, "Christmas Day"), (12, 26, "Boxing Day")],
    "chi": [(1, 1, "New Year's Day"), (7, 4, "Independence Day"), (11, 26, "Thanksgiving"),
            (12, 25, "Christmas Day")],
    "sin": [(1, 1, "New Year's Day"), (5, 1, "Labour Day"), (8, 9, "National Day"),
            (12, 25, "Christmas Day")],
}  # fmt: skip

# priority -> (response hours, resolution hours, clock)
TARGETS = {
    Priority.EMERGENCY: ("2", "8", SlaClock.CALENDAR),
    Priority.HIGH: ("4", "24", SlaClock.BUSINESS),
    Priority.MEDIUM: ("8", "40", SlaClock.BUSINESS),
    Priority.LOW: ("16", "80", SlaClock.BUSINESS),
}

# customer -> (reference, name, labour rate, monthly fee, not to exceed, skill rates)
CONTRACTS = {
    "Rheinwerk Chemie GmbH": ("C-2026-001", "Full-service maintenance, Berlin", "78.00",
                              "9500.00", "2500.00", {"vibration": "96.00", "electrical": "84.00"}),
    "Lakeshore Foods Inc.": ("C-2026-002", "Maintenance and IIoT monitoring, CHI and SIN",
                             "85.00", "14000.00", "3000.00", {"vibration": "105.00"}),
}  # fmt: skip

# currency -> default (cost, overtime cost), per skill
LABOUR_COSTS = {
    "EUR": (("46.00", "69.00"), {"vibration": ("58.00", "87.00")}),
    "USD": (("52.00", "78.00"), {"vibration": ("64.00", "96.00")}),
}
DOWNTIME_COST = {Criticality.A: Decimal("1800.00"), Criticality.B: Decimal("450.00")}


def seed_contracts(sites: dict[str, Site], skills: dict, today: datetime.date) -> dict:
    """Currencies, calendars, contracts and cost rates; returns the contracts by customer."""
    customers = {c.name: c for c in Customer.objects.filter(sites__in=sites.values()).distinct()}
    for name, customer in customers.items():
        customer.currency = CURRENCY[name]
        customer.report_recipients = RECIPIENTS[name]
    Customer.objects.bulk_update(customers.values(), ["currency", "report_recipients"])
    calendars = BusinessCalendar.objects.bulk_create(
        BusinessCalendar(site=site, working_days=days, day_starts=start, day_ends=end)
        for code, site in sites.items()
        for days, start, end in [CALENDARS[code]]
    )
    by_site = {calendar.site_id: calendar for calendar in calendars}
    Holiday.objects.bulk_create(
        Holiday(calendar=by_site[site.pk], date=datetime.date(year, month, day), name=name)
        for code, site in sites.items()
        for year in (today.year - 1, today.year, today.year + 1)
        for month, day, name in HOLIDAYS[code]
    )
    contracts = {}
    for name, customer in customers.items():
        reference, title, rate, fee, limit, skill_rates = CONTRACTS[name]
        contract = Contract.objects.create(
            customer=customer,
            reference=reference,
            name=title,
            starts_on=datetime.date(today.year - 1, 1, 1),
            pausing_hold_reasons=[HoldReason.WAITING_FOR_CLIENT, HoldReason.WAITING_FOR_ACCESS],
            labour_rate=Decimal(rate),
            parts_markup_percent=Decimal("15"),
            services_markup_percent=Decimal("8"),
            monthly_fee=Decimal(fee),
            not_to_exceed=Decimal(limit),
        )
        contract.sites.set([site for site in sites.values() if site.customer_id == customer.pk])
        SlaTarget.objects.bulk_create(
            SlaTarget(
                contract=contract,
                priority=priority,
                response_hours=Decimal(response),
                resolution_hours=Decimal(resolution),
                clock=clock,
            )
            for priority, (response, resolution, clock) in TARGETS.items()
        )
        BillingRate.objects.bulk_create(
            BillingRate(contract=contract, skill=skills[code], hourly_rate=Decimal(amount))
            for code, amount in skill_rates.items()
        )
        contracts[name] = contract
    valid_from = datetime.date(today.year - 1, 1, 1)
    LabourRate.objects.bulk_create(
        LabourRate(
            currency=currency,
            skill=skills[skill] if skill else None,
            hourly_cost=Decimal(cost),
            overtime_hourly_cost=Decimal(overtime),
            valid_from=valid_from,
        )
        for currency, (default, per_skill) in LABOUR_COSTS.items()
        for skill, (cost, overtime) in [(None, default), *per_skill.items()]
    )
    equipment = Asset.objects.filter(
        site__in=sites.values(), level=AssetLevel.EQUIPMENT, criticality__in=DOWNTIME_COST
    )
    for criticality, cost in DOWNTIME_COST.items():
        equipment.filter(criticality=criticality).update(downtime_cost_per_hour=cost)
    return contracts


# -- the history's clocks and costs (the bulk-written work of the last 90 days)

# remedy code -> the part a repair of that kind used (sku, quantity)
REPAIR_PARTS = {
    "RSEAL": ("SEAL-MS-45", 1),
    "RBRG": ("BRG-6308-2Z", 2),
    "REALIGN": ("CPL-ROTEX-28", 1),
    "LUBRICATE": ("LUB-EP2", 2),
}
# Every few failures needed outside help: (vendor, description, amount)
SERVICES = [
    ("Elektromotoren Lenz", "Motor rewind, drive end bearing replaced", "1450.00"),
    ("CraneCo Rental", "Mobile crane, half day", "620.00"),
    ("Vibration Lab Services", "Laser alignment check with report", "380.00"),
]


def clock_history(order: WorkOrder) -> None:
    """The SLA fields history work would have had: the contract covering it when it was
    created, its due moments, and its final state (before the bulk insert)."""
    fields = sla_fields_for_new(
        site=order.site,
        asset_id=order.asset_id,
        priority=order.priority,
        work_type=order.type,
        at=order.created_at,
    )
    for name, value in fields.items():
        setattr(order, name, value)
    if order.status == Status.CANCELLED:
        order.sla_state = ""
    elif order.contract_id is not None:
        order.sla_state = sla_state_at(order, order.completed_at or order.closed_at)


def cost_history(orders: list[WorkOrder], stock: dict, *, opened_at) -> None:
    """Labour (priced at the cost rates of the day), the parts each repair used and a few
    outside services for the history's finished work, dated when they happened.

    The parts come out of the opening balances, dated `opened_at` (before the history): each
    receipt is raised by what the history issues from it, so on hand stays as seeded and the
    ledger still adds up to it, in order.
    """
    StockMovement.objects.filter(
        reason="opening balance", stock_id__in=[row.pk for row in stock.values()]
    ).update(created_at=opened_at)
    done = [order for order in orders if order.completed_at is not None]
    entries = []
    for order in done:
        entry = LabourEntry(
            work_order=order,
            technician=order.assignee,
            started_at=order.started_at,
            ended_at=order.completed_at,
            hours=order.actual_hours,
            overtime=order.priority == Priority.EMERGENCY and order.started_at.hour >= 18,
            note="history",
        )
        labour_entry_price(entry, work_order=order)
        entries.append(entry)
    LabourEntry.objects.bulk_create(entries)
    issues: list[StockMovement] = []
    issued: dict[int, Decimal] = {}
    for order in done:
        if order.remedy is None or order.remedy.code not in REPAIR_PARTS:
            continue
        sku, quantity = REPAIR_PARTS[order.remedy.code]
        row = stock[(order.site.code, sku)]
        issued[row.pk] = issued.get(row.pk, Decimal(0)) + quantity
        issues.append(
            StockMovement(
                stock=row,
                kind=MovementKind.ISSUE,
                quantity=-Decimal(quantity),
                on_hand_after=Decimal(0),  # set below, in the ledger's order
                work_order=order,
                unit_cost=row.average_cost,
                created_by=order.assignee,
                created_at=order.started_at + timedelta(minutes=10),
            )
        )
    receipts = {
        movement.stock_id: movement
        for movement in StockMovement.objects.filter(stock_id__in=issued, reason="opening balance")
    }
    balance = {}
    for stock_id, quantity in issued.items():
        receipt = receipts.get(stock_id)
        if receipt is None:  # the storeroom had none: the history's parts were bought then
            receipt = StockMovement.objects.create(
                stock_id=stock_id,
                kind=MovementKind.RECEIPT,
                quantity=quantity,
                on_hand_after=quantity,
                unit_cost=next(i.unit_cost for i in issues if i.stock_id == stock_id),
                reason="opening balance",
            )
            StockMovement.objects.filter(pk=receipt.pk).update(created_at=opened_at)
        else:
            receipt.quantity += quantity
            receipt.on_hand_after += quantity
            receipt.save(update_fields=["quantity", "on_hand_after"])
        balance[stock_id] = receipt.on_hand_after
    issues.sort(key=lambda movement: movement.created_at)
    for movement in issues:
        balance[movement.stock_id] += movement.quantity
        movement.on_hand_after = balance[movement.stock_id]
    dated = [movement.created_at for movement in issues]
    created = StockMovement.objects.bulk_create(issues)  # auto_now_add stamps them now
    for movement, when in zip(created, dated, strict=True):
        movement.created_at = when
    StockMovement.objects.bulk_update(created, ["created_at"])
    lines = []
    for n, order in enumerate(o for o in done if o.type == WorkOrderType.CORRECTIVE):
        if n % 4 == 1:
            vendor, description, amount = SERVICES[n % len(SERVICES)]
            lines.append(
                ServiceLine(
                    work_order=order,
                    vendor=vendor,
                    description=description,
                    amount=Decimal(amount),
                    created_at=order.completed_at,
                )
            )
    ServiceLine.objects.bulk_create(lines)


def ask_the_clients(sites: dict[str, Site], users: dict) -> None:
    """Two repairs per plant estimated above the contract's limit: the client approved one
    (Berlin: with a comment) and has yet to decide on the other."""
    planners = {"ber": "planner.rheinwerk", "chi": "planner.lakeshore", "sin": "planner.lakeshore"}
    viewers = {"ber": "viewer.rheinwerk", "chi": "viewer.lakeshore", "sin": "viewer.lakeshore"}
    for code, site in sites.items():
        planner, viewer = users[planners[code]], users[viewers[code]]
        waiting = WorkOrder.objects.filter(site=site, status=Status.REQUESTED).order_by("id")
        for work_order, estimate, decided in zip(
            waiting[:2], ("4200.00", "3650.00"), (True, False), strict=True
        ):
            work_order_estimate_set(
                work_order=work_order, estimated_cost=Decimal(estimate), by=planner
            )
            if decided:
                work_order_client_decide(
                    work_order=work_order,
                    approve=True,
                    comment="Approved: the pump is on the critical path; go ahead.",
                    by=viewer,
                )
