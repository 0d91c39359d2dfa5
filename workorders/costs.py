"""What work cost: labour, parts and external services, per work order and rolled up.

The definitions (docs/costs.md):
- labour: the sum of `LabourEntry.cost`, the snapshot taken when an entry's hours became final
  (its `ended_at` is set). A final entry without a cost (no labour rate applied) is not counted
  as 0 silently: the cost says `labour_unpriced`.
- parts: minus the value (quantity x unit_cost) of the work order's issue and return movements,
  so an issue adds and a return takes back what it was valued at.
- services: the sum of `ServiceLine.amount`.
Cost in a period is what was incurred in it: labour by the entry's end, parts by the movement's
time, services by their `created_at`; the period is half-open, [start, end).

Amounts are in the customer's currency (`Customer.currency`). Work orders of customers with
different currencies cannot be summed: `costs_incurred` then says `currency == ""`
(MIXED_CURRENCY); group by customer instead.

Every function runs a constant number of queries (three aggregates), whatever the number of
work orders.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.utils import timezone

from assets.choices import MovementKind
from assets.models import Asset, Customer, Site, StockMovement
from contracts.models import LabourRate
from workorders.models import LabourEntry, ServiceLine, WorkOrder

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
MIXED_CURRENCY = ""
GROUPS = ("work_order", "asset", "site", "customer")

# The path from a work order to each group's key, and to its currency.
_GROUP_PATHS = {
    "work_order": "id",
    "asset": "asset_id",
    "site": "site_id",
    "customer": "site__customer_id",
}
_CURRENCY_PATH = "site__customer__currency"


# Roll-up periods are whole days; midnights of the years 1 and 9999 may fall outside UTC's
# calendar, so a day outside these years is refused where a period is given.
PERIOD_YEARS = range(2, 9999)


def period_bound(day: date) -> datetime:
    """The midnight that starts `day` in the server's time zone: a roll-up period's bound."""
    return timezone.make_aware(datetime.combine(day, time.min))


def to_cents(amount: Decimal) -> Decimal:
    """An amount rounded half-up to cents, as money is stored and shown."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Cost:
    """The cost of some work, in one currency."""

    labour: Decimal = ZERO
    parts: Decimal = ZERO
    services: Decimal = ZERO
    currency: str = MIXED_CURRENCY
    # Some final labour entry had no rate: `labour` is less than the real labour cost.
    labour_unpriced: bool = False
    # Some issue or return movement had no unit cost (recorded before costs were kept).
    parts_unpriced: bool = False

    @property
    def total(self) -> Decimal:
        return self.labour + self.parts + self.services

    def __add__(self, other: Cost) -> Cost:
        """Two costs summed; the currency stays only when both agree (or one is empty work)."""
        if not isinstance(other, Cost):
            return NotImplemented
        return Cost(
            labour=self.labour + other.labour,
            parts=self.parts + other.parts,
            services=self.services + other.services,
            currency=_common_currency(self, other),
            labour_unpriced=self.labour_unpriced or other.labour_unpriced,
            parts_unpriced=self.parts_unpriced or other.parts_unpriced,
        )


def _common_currency(a: Cost, b: Cost) -> str:
    if a.currency == b.currency:
        return a.currency
    if _is_empty(a):
        return b.currency
    if _is_empty(b):
        return a.currency
    return MIXED_CURRENCY


def _is_empty(cost: Cost) -> bool:
    return cost == Cost(currency=cost.currency)


def work_order_cost(work_order: WorkOrder) -> Cost:
    """Everything the work order has cost so far, in its customer's currency."""
    costs = costs_by(
        work_orders=WorkOrder.objects.filter(pk=work_order.pk),
        start=None,
        end=None,
        group="work_order",
    )
    if work_order.pk in costs:
        return costs[work_order.pk]
    return Cost(currency=work_order.site.customer.currency)


def costs_incurred(*, work_orders: QuerySet, start: datetime | None, end: datetime | None) -> Cost:
    """The cost incurred in [start, end) on these work orders (None: unbounded)."""
    total = Cost()
    for cost in costs_by(work_orders=work_orders, start=start, end=end, group="customer").values():
        total = total + cost
    return total


def costs_by(
    *, work_orders: QuerySet, start: datetime | None, end: datetime | None, group: str
) -> dict[int | None, Cost]:
    """The cost incurred in [start, end) on these work orders, per group key.

    `group` is one of GROUPS; keys are the work order's, asset's, site's or customer's id (the
    key None gathers work orders without an asset). Groups without any cost in the period are
    absent. Three queries, whatever the number of work orders.
    """
    if group not in _GROUP_PATHS:
        raise ValueError(f"group must be one of {', '.join(GROUPS)}")
    ids = work_orders.order_by().values("pk")
    key = "work_order__" + _GROUP_PATHS[group]
    currency = "work_order__" + _CURRENCY_PATH
    found: dict[int | None, Cost] = {}

    def add(row, **amounts):
        cost = found.get(row["key"]) or Cost(currency=row["currency"])
        found[row["key"]] = replace(
            cost,
            **{name: getattr(cost, name) + value for name, value in amounts.items()},
            labour_unpriced=cost.labour_unpriced or bool(row.get("labour_unpriced")),
            parts_unpriced=cost.parts_unpriced or bool(row.get("parts_unpriced")),
        )

    labour = _in_period(
        LabourEntry.objects.filter(work_order__in=ids, ended_at__isnull=False),
        "ended_at",
        start,
        end,
    )
    for row in (
        labour.values(key=F(key), currency=F(currency))
        .annotate(amount=Sum("cost"), labour_unpriced=Count("pk", filter=Q(cost__isnull=True)))
        .order_by()
    ):
        add(row, labour=to_cents(row["amount"] or ZERO))

    movements = _in_period(
        StockMovement.objects.filter(
            work_order__in=ids, kind__in=[MovementKind.ISSUE, MovementKind.RETURN]
        ),
        "created_at",
        start,
        end,
    )
    value = ExpressionWrapper(
        F("quantity") * F("unit_cost"), output_field=DecimalField(max_digits=30, decimal_places=8)
    )
    for row in (
        movements.values(key=F(key), currency=F(currency))
        .annotate(amount=Sum(value), parts_unpriced=Count("pk", filter=Q(unit_cost__isnull=True)))
        .order_by()
    ):
        add(row, parts=to_cents(-(row["amount"] or ZERO)))

    services = _in_period(ServiceLine.objects.filter(work_order__in=ids), "created_at", start, end)
    for row in (
        services.values(key=F(key), currency=F(currency)).annotate(amount=Sum("amount")).order_by()
    ):
        add(row, services=to_cents(row["amount"] or ZERO))
    return found


def group_labels(group: str, ids) -> dict[int, str]:
    """A label per key of `costs_by` (number, "tag name", site or customer name); one query.
    The key None (work without an asset) has none: callers name it."""
    ids = [pk for pk in ids if pk is not None]
    if group == "work_order":
        return dict(WorkOrder.objects.filter(pk__in=ids).values_list("pk", "number"))
    if group == "asset":
        return {a.pk: f"{a.tag} {a.name}" for a in Asset.objects.filter(pk__in=ids)}
    model = {"site": Site, "customer": Customer}[group]
    return dict(model.objects.filter(pk__in=ids).values_list("pk", "name"))


def _in_period(queryset: QuerySet, field: str, start, end) -> QuerySet:
    if start is not None:
        queryset = queryset.filter(**{f"{field}__gte": start})
    if end is not None:
        queryset = queryset.filter(**{f"{field}__lt": end})
    return queryset


# ---------------------------------------------------------------- labour pricing


def labour_rate_for(*, technician, skill, currency: str, day: date) -> LabourRate | None:
    """The labour rate that prices a technician's hour on `day`: the technician's own rate,
    else the rate of the work's skill, else the default; of each, the newest valid on `day`.
    Only rates in `currency` count (a cost is in the customer's currency). One query."""
    rates = LabourRate.objects.filter(currency=currency, valid_from__lte=day).filter(
        Q(technician=technician)
        | Q(technician__isnull=True, skill__isnull=True)
        | (Q(skill=skill, technician__isnull=True) if skill is not None else Q(pk__in=[]))
    )
    best: dict[int, LabourRate] = {}
    for rate in rates.order_by("-valid_from"):
        rank = 0 if rate.technician_id else 1 if rate.skill_id else 2
        best.setdefault(rank, rate)
    return best[min(best)] if best else None


def labour_entry_price(entry, *, work_order: WorkOrder) -> None:
    """Set `cost_rate` and `cost` of a labour entry whose hours are final (not saved).

    The rate is looked up for the day the entry started at the site; overtime hours are priced
    at the rate's overtime cost. Without a rate both stay empty, and the work order's cost says
    its labour is unpriced.
    """
    site = work_order.site
    day = entry.started_at.astimezone(ZoneInfo(site.timezone)).date()
    rate = labour_rate_for(
        technician=entry.technician,
        skill=work_order.required_skill,
        currency=site.customer.currency,
        day=day,
    )
    if rate is None:
        entry.cost_rate = entry.cost = None
        return
    entry.cost_rate = rate.overtime_hourly_cost if entry.overtime else rate.hourly_cost
    entry.cost = to_cents(Decimal(entry.hours) * entry.cost_rate)
