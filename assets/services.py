"""Writes to assets, meters and stock. Views, admin, API and tasks all call these."""

from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr

from assets.choices import MovementKind
from assets.models import (
    Asset,
    Customer,
    IsolationPoint,
    Meter,
    Part,
    Site,
    Stock,
    StockMovement,
    Storeroom,
)
from audit.choices import AuditAction
from audit.services import audit_record, field_changes
from cmms.errors import InsufficientStock
from cmms.rows import UNCHANGED, given, given_fields

UNIT_COST_PLACES = Decimal("0.0001")  # cmms.fields.UNIT_COST
FIXED_SITE = "Objects stay at their site; create a new one at the other site."
FIXED_STOCK = {
    "part": "Stock rows keep their part; create a new row.",
    "storeroom": "Stock rows keep their storeroom; create a new row.",
}

# ---------------------------------------------------------------- asset hierarchy

# What `asset_create` and `asset_update` write: the API, the import and the export name these.
ASSET_FIELDS = (
    "site",
    "tag",
    "name",
    "parent",
    "level",
    "equipment_class",
    "criticality",
    "state",
    "manufacturer",
    "model",
    "serial_number",
    "installed_on",
)


def _path_for(asset: Asset) -> str:
    prefix = asset.parent.path if asset.parent_id else "/"
    return f"{prefix}{asset.pk}/"


@transaction.atomic
def asset_create(
    *,
    site: Site,
    tag: str,
    name: str,
    parent: Asset | None = None,
    level: str = UNCHANGED,
    equipment_class=UNCHANGED,
    criticality: str = UNCHANGED,
    state: str = UNCHANGED,
    manufacturer: str = UNCHANGED,
    model: str = UNCHANGED,
    serial_number: str = UNCHANGED,
    installed_on=UNCHANGED,
    downtime_cost_per_hour=UNCHANGED,
) -> Asset:
    """Create an asset and place it in the hierarchy (path and depth)."""
    asset = Asset(**given_fields(locals(), Asset))
    asset.full_clean(exclude=["path"])
    asset.save()
    asset.path = _path_for(asset)
    asset.depth = asset.path.count("/") - 2
    Asset.objects.filter(pk=asset.pk).update(path=asset.path, depth=asset.depth)
    return asset


@transaction.atomic
def asset_update(
    *,
    asset: Asset,
    site: Site = UNCHANGED,
    tag: str = UNCHANGED,
    name: str = UNCHANGED,
    parent: Asset | None = UNCHANGED,
    level: str = UNCHANGED,
    equipment_class=UNCHANGED,
    criticality: str = UNCHANGED,
    state: str = UNCHANGED,
    manufacturer: str = UNCHANGED,
    model: str = UNCHANGED,
    serial_number: str = UNCHANGED,
    installed_on=UNCHANGED,
    downtime_cost_per_hour=UNCHANGED,
) -> Asset:
    """Change an asset's fields (its site is fixed); a new parent moves the whole subtree in
    one UPDATE."""
    fields = given_fields(locals(), Asset)
    refuse_fixed(asset, {"site": FIXED_SITE}, site=site)
    old_parent_id = asset.parent_id
    for field, value in fields.items():
        setattr(asset, field, value)
    asset.full_clean(exclude=["path"])
    if asset.parent_id != old_parent_id:
        _move_subtree(asset)
    asset.save()
    return asset


def _move_subtree(asset: Asset) -> None:
    """Rewrite the paths of the asset and its descendants (call inside a transaction)."""
    old_path = asset.path
    new_path = _path_for(asset)
    depth_change = new_path.count("/") - old_path.count("/")
    Asset.objects.select_for_update().filter(path__startswith=old_path).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
        depth=F("depth") + depth_change,
    )
    asset.path = new_path
    asset.depth = new_path.count("/") - 2


def _saved(instance, **values):
    """Set the given values, validate the row as the model does and save it (a change writes
    only the given columns, so it cannot undo a concurrent stock movement)."""
    creating = instance._state.adding
    for field, value in values.items():
        setattr(instance, field, value)
    instance.full_clean()
    if creating:
        instance.save()
    elif values:
        instance.save(update_fields=list(values))
    return instance


def refuse_fixed(instance, messages: dict[str, str], **values) -> None:
    """Raise when a value would change a field that is fixed once the row exists (sending the
    current value is not a change). `messages` says per field why it is fixed."""
    errors = {
        field: message
        for field, message in messages.items()
        if values.get(field, UNCHANGED) is not UNCHANGED
        and getattr(values[field], "pk", values[field])
        != instance._meta.get_field(field).value_from_object(instance)
    }
    if errors:
        raise ValidationError(errors)


# ---------------------------------------------------------------- customers and sites


@transaction.atomic
def customer_create(
    *, name: str, currency: str = UNCHANGED, report_recipients: str = UNCHANGED
) -> Customer:
    """A client; `currency` (ISO 4217, default EUR) is that of every amount for them, and
    `report_recipients` (one e-mail address per line) receive their monthly report."""
    return _saved(Customer(), **given_fields(locals(), Customer))


@transaction.atomic
def customer_update(
    *,
    customer: Customer,
    name: str = UNCHANGED,
    currency: str = UNCHANGED,
    report_recipients: str = UNCHANGED,
) -> Customer:
    return _saved(customer, **given_fields(locals(), Customer))


@transaction.atomic
def site_create(*, customer: Customer, code: str, name: str, timezone: str = UNCHANGED) -> Site:
    return _saved(Site(), **given_fields(locals(), Site))


@transaction.atomic
def site_update(
    *,
    site: Site,
    customer: Customer = UNCHANGED,
    code: str = UNCHANGED,
    name: str = UNCHANGED,
    timezone: str = UNCHANGED,
) -> Site:
    return _saved(site, **given_fields(locals(), Site))


# ---------------------------------------------------------------- meters


@transaction.atomic
def meter_create(
    *, asset: Asset, code: str, name: str, unit: str, cumulative: bool = UNCHANGED
) -> Meter:
    return _saved(Meter(), **given_fields(locals(), Meter))


@transaction.atomic
def meter_update(
    *,
    meter: Meter,
    asset: Asset = UNCHANGED,
    code: str = UNCHANGED,
    name: str = UNCHANGED,
    unit: str = UNCHANGED,
    cumulative: bool = UNCHANGED,
) -> Meter:
    return _saved(meter, **given_fields(locals(), Meter))


# ---------------------------------------------------------------- isolation points
# A work order's safety steps show them to the technician who isolates the energy: every add,
# change and deletion is in the audit trail, at the asset's site.

ISOLATION_POINT_FIELDS = ("position", "code", "energy_type", "location", "method")


def _isolation_point_audit(point: IsolationPoint, action: str, *, by, changes: dict) -> None:
    changes = {"asset": point.asset.tag, **changes}
    audit_record(by=by, action=action, obj=point, site=point.asset.site, changes=changes)


@transaction.atomic
def isolation_point_create(
    *,
    asset: Asset,
    code: str,
    method: str,
    position: int = UNCHANGED,
    energy_type: str = UNCHANGED,
    location: str = UNCHANGED,
    by=None,
) -> IsolationPoint:
    point = _saved(IsolationPoint(), **given_fields(locals(), IsolationPoint))
    after = {name: getattr(point, name) for name in ISOLATION_POINT_FIELDS}
    _isolation_point_audit(
        point, AuditAction.ISOLATION_POINT_CREATE, by=by, changes=field_changes({}, after)
    )
    return point


@transaction.atomic
def isolation_point_update(
    *,
    isolation_point: IsolationPoint,
    position: int = UNCHANGED,
    code: str = UNCHANGED,
    energy_type: str = UNCHANGED,
    location: str = UNCHANGED,
    method: str = UNCHANGED,
    by=None,
) -> IsolationPoint:
    values = given_fields(locals(), IsolationPoint)
    before = {name: getattr(isolation_point, name) for name in values}
    point = _saved(isolation_point, **values)
    changes = field_changes(before, values)
    if changes:
        _isolation_point_audit(point, AuditAction.ISOLATION_POINT_UPDATE, by=by, changes=changes)
    return point


@transaction.atomic
def isolation_point_delete(*, isolation_point: IsolationPoint, by=None) -> None:
    before = {name: getattr(isolation_point, name) for name in ISOLATION_POINT_FIELDS}
    _isolation_point_audit(
        isolation_point,
        AuditAction.ISOLATION_POINT_DELETE,
        by=by,
        changes={name: [value, None] for name, value in before.items()},
    )
    isolation_point.delete()


# ---------------------------------------------------------------- parts, storerooms, stock rows


@transaction.atomic
def part_create(*, sku: str, name: str, unit: str = UNCHANGED, unit_cost=UNCHANGED) -> Part:
    return _saved(Part(), **given_fields(locals(), Part))


@transaction.atomic
def part_update(
    *,
    part: Part,
    sku: str = UNCHANGED,
    name: str = UNCHANGED,
    unit: str = UNCHANGED,
    unit_cost=UNCHANGED,
) -> Part:
    return _saved(part, **given_fields(locals(), Part))


@transaction.atomic
def storeroom_create(*, site: Site, code: str, name: str) -> Storeroom:
    return _saved(Storeroom(), **given_fields(locals(), Storeroom))


@transaction.atomic
def storeroom_update(
    *, storeroom: Storeroom, site: Site = UNCHANGED, code: str = UNCHANGED, name: str = UNCHANGED
) -> Storeroom:
    """Rename a storeroom; it stays at its site."""
    refuse_fixed(storeroom, {"site": FIXED_SITE}, site=site)
    return _saved(storeroom, **given(code=code, name=name))


@transaction.atomic
def stock_create(
    *, part: Part, storeroom: Storeroom, reorder_point=UNCHANGED, bin: str = UNCHANGED
) -> Stock:
    """A stock row of a part in a storeroom, empty: quantities arrive as receipts."""
    return _saved(Stock(), **given_fields(locals(), Stock))


@transaction.atomic
def stock_update(
    *,
    stock: Stock,
    part: Part = UNCHANGED,
    storeroom: Storeroom = UNCHANGED,
    reorder_point=UNCHANGED,
    bin: str = UNCHANGED,
) -> Stock:
    """Change a stock row's reorder point or bin; it keeps its part and storeroom, and its
    quantities change only through the ledger (receive, issue, return, adjust)."""
    refuse_fixed(stock, FIXED_STOCK, part=part, storeroom=storeroom)
    return _saved(stock, **given(reorder_point=reorder_point, bin=bin))


# ---------------------------------------------------------------- stock


def _positive(quantity) -> Decimal:
    quantity = Decimal(quantity)
    if quantity <= 0:
        raise ValidationError({"quantity": "Quantity must be greater than zero."})
    return quantity


def _locked(stock: Stock) -> Stock:
    """Re-read the stock row under a row lock; callers hold a transaction."""
    return Stock.objects.select_for_update().get(pk=stock.pk)


def _move(
    stock: Stock, *, kind, quantity: Decimal, by, unit_cost: Decimal, work_order=None, reason=""
) -> StockMovement:
    """Write a ledger row valued at `unit_cost` and change on hand (call under the row lock)."""
    stock.on_hand += quantity
    stock.save(update_fields=["on_hand", "reserved", "average_cost"])
    return StockMovement.objects.create(
        stock=stock,
        kind=kind,
        quantity=quantity,
        on_hand_after=stock.on_hand,
        work_order=work_order,
        reason=reason,
        created_by=by,
        unit_cost=unit_cost,
    )


def _blend_average(stock: Stock, *, quantity: Decimal, unit_cost: Decimal) -> None:
    """Move the moving average for `quantity` arriving at `unit_cost` (before on hand grows):
    (on_hand x average + quantity x unit_cost) / (on_hand + quantity), to four places."""
    value = stock.on_hand * stock.average_cost + quantity * unit_cost
    stock.average_cost = (value / (stock.on_hand + quantity)).quantize(
        UNIT_COST_PLACES, rounding=ROUND_HALF_UP
    )


def _unit_cost(unit_cost) -> Decimal:
    try:
        unit_cost = Decimal(unit_cost)
    except (ArithmeticError, TypeError, ValueError):
        raise ValidationError({"unit_cost": "Give the price of one unit as a number."}) from None
    if not unit_cost.is_finite() or unit_cost < 0:
        raise ValidationError({"unit_cost": "A unit cost cannot be negative."})
    return unit_cost.quantize(UNIT_COST_PLACES, rounding=ROUND_HALF_UP)


@transaction.atomic
def stock_receive(
    *, stock: Stock, quantity, by=None, reason: str = "", unit_cost=None
) -> StockMovement:
    """Parts arrive in the storeroom at `unit_cost` each (the purchase price), which moves the
    stock's moving average cost. Without a price they are valued at the current average, or at
    the part's list price (`Part.unit_cost`) while the stock has never been valued."""
    quantity = _positive(quantity)
    stock = _locked(stock)
    if unit_cost is None:
        unit_cost = stock.average_cost if stock.average_cost > 0 else stock.part.unit_cost
    unit_cost = _unit_cost(unit_cost)
    _blend_average(stock, quantity=quantity, unit_cost=unit_cost)
    return _move(
        stock,
        kind=MovementKind.RECEIPT,
        quantity=quantity,
        by=by,
        reason=reason,
        unit_cost=unit_cost,
    )


@transaction.atomic
def stock_issue(
    *, stock: Stock, quantity, work_order, by=None, reserved: Decimal = Decimal("0")
) -> StockMovement:
    """Issue parts to a work order. `reserved` of the quantity comes out of a reservation
    held for it; the rest never exceeds what is available (on hand - reserved).
    """
    quantity = _positive(quantity)
    stock = _locked(stock)
    if work_order.site_id != stock.storeroom.site_id:
        raise ValidationError({"stock": "The storeroom belongs to another site."})
    reserved = min(Decimal(reserved), quantity, stock.reserved)
    unreserved = quantity - reserved
    stock.reserved -= reserved
    if unreserved > stock.available:
        raise InsufficientStock(
            f"Only {stock.available + reserved} {stock.part.unit} of {stock.part.sku} available "
            f"in {stock.storeroom} (asked for {quantity}).",
            code="insufficient_stock",
        )
    return _move(
        stock,
        kind=MovementKind.ISSUE,
        quantity=-quantity,
        by=by,
        work_order=work_order,
        unit_cost=stock.average_cost,
    )


@transaction.atomic
def stock_return(*, stock: Stock, quantity, work_order, by=None) -> StockMovement:
    """Unused parts come back from a work order; never more than was issued to it.

    They come back at the cost they were issued at (the quantity-weighted average of the work
    order's issues from this stock), so the work order's parts cost falls by exactly what those
    parts had added, and they blend into the moving average like a receipt at that cost.
    """
    quantity = _positive(quantity)
    stock = _locked(stock)
    movements = list(
        StockMovement.objects.filter(
            stock=stock, work_order=work_order, kind__in=[MovementKind.ISSUE, MovementKind.RETURN]
        )
    )
    issued = -sum(m.quantity for m in movements)
    if quantity > issued:
        raise ValidationError(
            {"quantity": f"Only {issued} were issued to {work_order.number}; cannot return more."}
        )
    unit_cost = _issued_unit_cost(movements, default=stock.average_cost)
    _blend_average(stock, quantity=quantity, unit_cost=unit_cost)
    return _move(
        stock,
        kind=MovementKind.RETURN,
        quantity=quantity,
        by=by,
        work_order=work_order,
        unit_cost=unit_cost,
    )


def _issued_unit_cost(movements: list[StockMovement], *, default: Decimal) -> Decimal:
    """The quantity-weighted unit cost of the issues among `movements` (issues recorded before
    costs were kept count at `default`, the current average)."""
    issues = [m for m in movements if m.kind == MovementKind.ISSUE]
    quantity = -sum(m.quantity for m in issues)
    if not quantity:
        return default
    value = -sum(m.quantity * (default if m.unit_cost is None else m.unit_cost) for m in issues)
    return (value / quantity).quantize(UNIT_COST_PLACES, rounding=ROUND_HALF_UP)


@transaction.atomic
def stock_adjust(*, stock: Stock, counted, by=None, reason: str) -> StockMovement | None:
    """Set on hand to a physical count; the difference is an adjustment in the ledger."""
    counted = Decimal(counted)
    if counted < 0:
        raise ValidationError({"counted": "A count cannot be negative."})
    if not reason:
        raise ValidationError({"reason": "Say why the stock is adjusted."})
    stock = _locked(stock)
    if counted < stock.reserved:
        raise ValidationError(
            {"counted": f"{stock.reserved} are reserved for work orders; release them first."}
        )
    difference = counted - stock.on_hand
    if difference == 0:
        return None
    return _move(
        stock,
        kind=MovementKind.ADJUSTMENT,
        quantity=difference,
        by=by,
        reason=reason,
        unit_cost=stock.average_cost,
    )


@transaction.atomic
def stock_reserve(*, stock: Stock, quantity) -> Decimal:
    """Reserve up to `quantity` for a job; returns how much could be reserved (maybe less)."""
    quantity = _positive(quantity)
    stock = _locked(stock)
    granted = min(quantity, max(stock.available, Decimal("0")))
    if granted > 0:
        Stock.objects.filter(pk=stock.pk).update(reserved=F("reserved") + granted)
    return granted


@transaction.atomic
def stock_release(*, stock: Stock, quantity) -> None:
    """Give back a reservation that will not be used."""
    quantity = _positive(quantity)
    stock = _locked(stock)
    Stock.objects.filter(pk=stock.pk).update(reserved=F("reserved") - min(quantity, stock.reserved))
