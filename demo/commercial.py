"""Demo contracts, calendars and costs: what the partner sold each customer and at what price.

Rheinwerk Chemie (Berlin) pays in euros, Lakeshore Foods (Chicago and Singapore) in dollars.
Each customer has one contract covering its plants, with response and resolution targets per
priority (emergencies around the clock, the rest in the plant's business hours), clock-pausing
hold reasons, billing terms and a not-to-exceed amount; each plant has its working calendar
with the public holidays of the demo's year; technicians have cost rates; equipment has a
downtime cost per hour for the monthly report's estimate of downtime avoided.
"""

import datetime
from decimal import Decimal

from assets.choices import AssetLevel, Criticality
from assets.models import Asset, Customer, Site
from contracts.choices import SlaClock
from contracts.models import (
    BillingRate,
    BusinessCalendar,
    Contract,
    Holiday,
    LabourRate,
    SlaTarget,
)
from workorders.choices import HoldReason, Priority

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
