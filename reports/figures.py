"""Every figure of the monthly client report, each with the definition the report prints.

A report covers one customer (optionally one of its sites) over one calendar month, in the
time zone of the site (or of the customer's sites when they share one; otherwise the
server's). It reads through querysets scoped once, in `ReportScope`: to the user's sites when a
person asks, to the customer's sites when beat mails the report.

The number of queries does not depend on the number of work orders, alerts or assets: each
figure is one or two grouped queries (`tests/reports/test_figures.py` pins the count).
"""

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.db.models import Avg, Count, QuerySet, Value
from django.utils import timezone

from alerts.models import Alert
from assets.models import Asset, Customer, Site
from condition import health
from contracts.attainment import DEFINITION as ATTAINMENT_DEFINITION
from contracts.attainment import Attainment, attainment_by_contract
from contracts.models import Contract
from fleet.availability import Availability, availability_by_gateway
from gateways.models import Gateway
from reports.billing import Kind, billing_lines
from reports.months import month_bounds_utc, sites_zone
from workorders import selectors
from workorders.choices import WorkOrderType
from workorders.models import WorkOrder

CENT = Decimal("0.01")
DONE_STATUSES = selectors.DONE_STATUSES

DEFINITIONS = {
    "sla": ATTAINMENT_DEFINITION,
    "pm": (
        "PM work orders completed on or before the due date their PM plan set ÷ PM work "
        "orders due in the month (up to today), cancelled ones included: a skipped PM is a "
        "miss."
    ),
    "work_done": (
        "Work orders completed in the month (completed or closed since), by type: corrective "
        "(after a failure), preventive (PM plans), condition-based (caught by monitoring or an "
        "inspection finding) and inspection."
    ),
    "funnel": (
        "Alerts from the plant's monitoring received in the month → of them, processed and "
        "linked to a work order → distinct work orders created from alerts in the month "
        "(repeated alerts of one condition join the one open work order)."
    ),
    "caught": (
        "Condition-based work completed in the month: a developing fault found by monitoring "
        "or inspection and fixed before the asset failed. Estimated downtime avoided, per "
        "work order: the asset's historic mean time to repair of corrective work (completed - "
        "started, every corrective work order completed before the month ends; the asset's "
        "equipment class when the asset has none) x the asset's downtime cost per hour. Work "
        "on an asset without either has no estimate and is counted apart."
    ),
    "reliability": (
        "MTTR (mean time to repair) = mean of completed - started of corrective and "
        "condition-based work completed in the month. MTBF (mean time between failures) = "
        "hours in the month x assets of the class in service ÷ failures (corrective and "
        "condition-based work reported in the month, not cancelled)."
    ),
    "top_assets": (
        "The assets with the most failures in the month (as for MTBF), ties broken by repair "
        "hours (completed - started of those failures)."
    ),
    "costs": (
        "What was billed under each contract for the month: the fixed monthly fee, and the "
        "work billed on top of it (labour at the contract's billing rates, overtime at its "
        "multiplier, parts and external services with the contract's markups). Preventive and "
        "inspection work that the fee covers is valued at the same rates and credited, so it "
        "costs nothing on top of the fee; its value shows what the fee bought. Amounts are "
        "those of the month's bill, in the customer's currency."
    ),
    "fleet": (
        "Connectivity availability of the plant's IIoT gateways: time online (or late within "
        "the allowed grace) ÷ time observed in the month, leaving out the time before a "
        "gateway's first sign of life."
    ),
    "health": (
        f"{health.DEFINITION} In this report: the equipment and components in service at the "
        "report's sites, scored when the report was generated (not at the end of the month it "
        "covers)."
    ),
}


def money(amount: Decimal) -> Decimal:
    """An amount rounded half-up to cents, as the report shows and stores it."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------- the period and the scope


@dataclass
class ReportScope:
    """Who and what a report covers: a customer, optionally one site, one month, in a zone."""

    customer: Customer
    sites: list[Site]
    site: Site | None
    month: date
    zone: ZoneInfo
    start: datetime
    end: datetime
    now: datetime
    work_orders: QuerySet
    alerts: QuerySet
    assets: QuerySet

    @property
    def last_day(self) -> date:
        return self.month.replace(day=calendar.monthrange(self.month.year, self.month.month)[1])

    @property
    def period_label(self) -> str:
        return f"{self.month:%B %Y}"

    @property
    def currency(self) -> str:
        return self.customer.currency


def report_scope(
    *, customer: Customer, month: date, site: Site | None = None, user=None, now=None
) -> ReportScope:
    """The scope of a report. `user`: the person asking (their sites only); None: beat, who
    reports on all the customer's sites. The caller checks that `site` is the customer's."""
    sites_qs = Site.objects.filter(customer=customer)
    work_orders = WorkOrder.objects.filter(site__customer=customer)
    alerts = Alert.objects.filter(site__customer=customer)
    assets = Asset.objects.filter(site__customer=customer)
    if user is not None:
        sites_qs = sites_qs & Site.objects.for_user(user)
        work_orders = work_orders & WorkOrder.objects.for_user(user)
        alerts = alerts & Alert.objects.for_user(user)
        assets = assets & Asset.objects.for_user(user)
    if site is not None:
        sites_qs = sites_qs.filter(pk=site.pk)
        work_orders, alerts = work_orders.filter(site=site), alerts.filter(site=site)
        assets = assets.filter(site=site)
    sites = list(sites_qs.order_by("code"))
    zone = sites_zone(sites)
    start, end = month_bounds_utc(month, zone)
    return ReportScope(
        customer=customer,
        sites=sites,
        site=site,
        month=month,
        zone=zone,
        start=start,
        end=end,
        now=now or timezone.now(),
        work_orders=work_orders,
        alerts=alerts,
        assets=assets,
    )


# ---------------------------------------------------------------- the figures


@dataclass
class ContractAttainment:
    contract: Contract
    attainment: Attainment


@dataclass
class TypeCount:
    type: str
    label: str
    count: int


@dataclass
class CaughtWork:
    """One condition-based work order completed in the month and what it is estimated to
    have saved (None when the asset has no repair history or no downtime cost)."""

    number: str
    title: str
    asset_tag: str
    completed_at: datetime
    mttr_hours: Decimal | None
    cost_per_hour: Decimal | None

    @property
    def avoided_cost(self) -> Decimal | None:
        if self.mttr_hours is None or self.cost_per_hour is None:
            return None
        return money(self.mttr_hours * self.cost_per_hour)


@dataclass
class CaughtBeforeFailure:
    rows: list[CaughtWork] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.rows)

    @property
    def estimated(self) -> list[CaughtWork]:
        return [r for r in self.rows if r.avoided_cost is not None]

    @property
    def avoided_hours(self) -> Decimal:
        return sum((r.mttr_hours for r in self.estimated), Decimal("0")).quantize(Decimal("0.1"))

    @property
    def avoided_cost(self) -> Decimal:
        return money(sum((r.avoided_cost for r in self.estimated), Decimal("0")))


@dataclass
class FleetAvailability:
    gateways: list[tuple[Gateway, Availability]]

    @property
    def percent(self) -> float | None:
        """Available ÷ observed over every gateway together (a gateway weighs by its time)."""
        observed = sum((a.observed for _, a in self.gateways), timedelta(0))
        available = sum((a.available for _, a in self.gateways), timedelta(0))
        return Availability(available=available, observed=observed).percent


@dataclass
class ContractBilling:
    """One contract's bill for the month, summed from its billing lines."""

    contract: Contract
    fee: Decimal
    labour: Decimal
    parts: Decimal
    services: Decimal
    covered: Decimal  # the value of the work the fee covers (credited on the bill)
    work_orders: int

    @property
    def on_top(self) -> Decimal:
        """Billed beyond the fee: the work's lines less the covered work's credit."""
        return self.labour + self.parts + self.services - self.covered

    @property
    def total(self) -> Decimal:
        return self.fee + self.on_top


@dataclass
class AssetHealthFigure:
    """The report's assets scored now (`condition.health`), worst first."""

    assets: list[health.AssetHealth]
    at: datetime
    worst_count: int = 10

    @property
    def count(self) -> int:
        return len(self.assets)

    @property
    def worst(self) -> list[health.AssetHealth]:
        return self.assets[: self.worst_count]

    @property
    def bands(self) -> list[tuple[str, int]]:
        return health.band_counts(self.assets)


@dataclass
class MonthlyReport:
    scope: ReportScope
    sla: list[ContractAttainment]
    pm: selectors.PMCompliance
    work_done: list[TypeCount]
    funnel: selectors.AlertFunnel
    caught: CaughtBeforeFailure
    reliability: list[selectors.ReliabilityRow]
    top_assets: list[selectors.AssetFailures]
    fleet: FleetAvailability
    health: AssetHealthFigure
    costs: list[ContractBilling] = field(default_factory=list)
    definitions: dict = field(default_factory=lambda: DEFINITIONS)

    @property
    def work_done_total(self) -> int:
        return sum(row.count for row in self.work_done)


def sla_attainment(scope: ReportScope) -> list[ContractAttainment]:
    """Each of the customer's contracts with work judged in the month (two queries)."""
    by_contract = attainment_by_contract(
        scope.work_orders, periods={"month": (scope.start, scope.end)}, now=scope.now
    )
    contracts = Contract.objects.filter(customer=scope.customer, pk__in=list(by_contract))
    return [
        ContractAttainment(contract=c, attainment=by_contract[c.pk]["month"])
        for c in contracts.order_by("reference")
    ]


def work_done_by_type(scope: ReportScope) -> list[TypeCount]:
    """Work orders completed in the month per type, every type listed (one query)."""
    counts = dict(
        scope.work_orders.filter(
            status__in=DONE_STATUSES, completed_at__gte=scope.start, completed_at__lt=scope.end
        )
        .order_by()
        .values_list("type")
        .annotate(n=Count(Value(1)))
    )
    return [TypeCount(t.value, t.label, counts.get(t.value, 0)) for t in WorkOrderType]


def _hours(duration: timedelta | None) -> Decimal | None:
    if duration is None:
        return None
    return (Decimal(duration.total_seconds()) / Decimal(3600)).quantize(Decimal("0.01"))


def caught_before_failure(scope: ReportScope) -> CaughtBeforeFailure:
    """Condition-based work completed in the month with its avoided-downtime estimate (see
    `DEFINITIONS["caught"]`): three queries (the work, MTTR per asset, MTTR per class)."""
    rows = list(
        scope.work_orders.filter(
            type=WorkOrderType.CONDITION_BASED,
            status__in=DONE_STATUSES,
            completed_at__gte=scope.start,
            completed_at__lt=scope.end,
        )
        .order_by("completed_at", "pk")
        .values(
            "number",
            "title",
            "completed_at",
            "asset_id",
            "asset__tag",
            "asset__equipment_class_id",
            "asset__downtime_cost_per_hour",
        )
    )
    history = scope.work_orders.filter(
        type=WorkOrderType.CORRECTIVE,
        status__in=DONE_STATUSES,
        started_at__isnull=False,
        completed_at__lt=scope.end,
    ).order_by()
    asset_ids = {r["asset_id"] for r in rows if r["asset_id"]}
    class_ids = {r["asset__equipment_class_id"] for r in rows if r["asset__equipment_class_id"]}
    by_asset = (
        dict(
            history.filter(asset_id__in=asset_ids)
            .values_list("asset_id")
            .annotate(mean=Avg(selectors.REPAIR_TIME))
        )
        if asset_ids
        else {}
    )
    by_class = (
        dict(
            history.filter(asset__equipment_class_id__in=class_ids)
            .values_list("asset__equipment_class_id")
            .annotate(mean=Avg(selectors.REPAIR_TIME))
        )
        if class_ids
        else {}
    )
    caught = CaughtBeforeFailure()
    for r in rows:
        mttr = by_asset.get(r["asset_id"]) or by_class.get(r["asset__equipment_class_id"])
        caught.rows.append(
            CaughtWork(
                number=r["number"],
                title=r["title"],
                asset_tag=r["asset__tag"] or "",
                completed_at=r["completed_at"],
                mttr_hours=_hours(mttr),
                cost_per_hour=r["asset__downtime_cost_per_hour"],
            )
        )
    return caught


def contract_billing(scope: ReportScope) -> list[ContractBilling]:
    """The month's bill per contract of the customer (`reports.billing`), on the report's
    sites: billed amounts only, never the partner's internal costs."""
    local = [moment.astimezone(scope.zone) for moment in (scope.start, scope.end)]
    lines = billing_lines(
        customer=scope.customer, start=local[0], end=local[1], sites=[s.pk for s in scope.sites]
    )
    by_contract: dict[str, list] = {}
    for line in lines:
        by_contract.setdefault(line.contract, []).append(line)
    # billing_lines already keeps to the report's sites: the work done there, under whichever
    # contract (ended or deactivated since included), and the fees of the contracts covering them.
    contracts = Contract.objects.filter(customer=scope.customer, reference__in=list(by_contract))
    rows = []
    for contract in contracts.order_by("reference"):
        mine = by_contract[contract.reference]

        def total(*kinds, lines=mine) -> Decimal:
            return money(sum((x.amount for x in lines if x.kind in kinds), Decimal("0")))

        rows.append(
            ContractBilling(
                contract=contract,
                fee=total(Kind.FEE),
                labour=total(Kind.LABOUR, Kind.OVERTIME),
                parts=total(Kind.PARTS),
                services=total(Kind.SERVICES),
                covered=-total(Kind.COVERED),
                work_orders=len({x.work_order for x in mine if x.work_order}),
            )
        )
    return rows


def fleet_availability(scope: ReportScope) -> FleetAvailability:
    """Each active gateway of the report's sites over the month (three queries)."""
    gateways = list(
        Gateway.objects.filter(site__in=[s.pk for s in scope.sites], is_active=True)
        .select_related("site")
        .order_by("site__code", "name")
    )
    end = min(scope.end, max(scope.now, scope.start))
    by_pk = availability_by_gateway(gateways, start=scope.start, end=end)
    return FleetAvailability(gateways=[(g, by_pk[g.pk]) for g in gateways])


def asset_health(scope: ReportScope) -> AssetHealthFigure:
    """The health of the report's assets as of the report's generation (four queries)."""
    return AssetHealthFigure(health.health_of_assets(scope.assets, now=scope.now), at=scope.now)


def monthly_report(scope: ReportScope) -> MonthlyReport:
    """Every figure of the report (about twenty queries whatever the amount of work)."""
    period_end = min(scope.end, max(scope.now, scope.start))
    return MonthlyReport(
        scope=scope,
        sla=sla_attainment(scope),
        pm=selectors.pm_compliance(scope.work_orders, start=scope.start, end=period_end),
        work_done=work_done_by_type(scope),
        funnel=selectors.alert_funnel(
            scope.alerts, scope.work_orders, start=scope.start, end=scope.end
        ),
        caught=caught_before_failure(scope),
        reliability=selectors.reliability(
            scope.work_orders, scope.assets, start=scope.start, end=scope.end
        ),
        top_assets=selectors.top_assets(
            scope.work_orders, start=scope.start, end=scope.end, limit=5
        ),
        fleet=fleet_availability(scope),
        health=asset_health(scope),
        costs=contract_billing(scope),
    )
