from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator, validate_email
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now

from assets.choices import AssetLevel, AssetState, Criticality, EnergyType, MovementKind
from cmms.fields import UNIT_COST, money_field, optional_foreign_key
from cmms.indexes import trigram_index
from cmms.scoping import SiteScopedQuerySet, UserScopedQuerySet

QTY = {"max_digits": 12, "decimal_places": 3}


class CustomerQuerySet(UserScopedQuerySet):
    def visible_to(self, user):
        """The customers of the user's sites."""
        return self.filter(pk__in=user.sites.values("customer"))


class Customer(models.Model):
    """A client of the maintenance partner that owns one or more plants (sites)."""

    name = models.CharField(max_length=200, unique=True)
    currency = models.CharField(
        max_length=3,
        default="EUR",
        validators=[RegexValidator(r"^[A-Z]{3}\Z", "An ISO 4217 code such as EUR or USD.")],
        help_text="Every amount for this customer (costs, contracts, bills) is in it.",
    )
    report_recipients = models.TextField(
        blank=True,
        help_text="Who receives the monthly report by e-mail: one address per line.",
    )

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        """Each line of `report_recipients` is one e-mail address (blank lines dropped), so the
        monthly report is not sent to a typo."""
        lines = [line.strip() for line in (self.report_recipients or "").splitlines()]
        addresses = [line for line in lines if line]
        bad = []
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError:
                bad.append(address)
        if bad:
            raise ValidationError(
                {"report_recipients": f"Not an e-mail address: {', '.join(bad)} (one per line)."}
            )
        self.report_recipients = "\n".join(addresses)

    @property
    def report_recipient_list(self) -> list[str]:
        return [line for line in self.report_recipients.splitlines() if line.strip()]


class SiteQuerySet(SiteScopedQuerySet):
    pass


class Site(models.Model):
    """A plant: the tenancy boundary. Users and gateways see only their sites."""

    site_lookup = "id"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="sites")
    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    timezone = models.CharField(max_length=64, default="UTC")

    objects = SiteQuerySet.as_manager()

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"

    def clean(self):
        import zoneinfo

        if self.timezone not in zoneinfo.available_timezones():
            raise ValidationError({"timezone": f"{self.timezone!r} is not an IANA time zone."})


class EquipmentClass(models.Model):
    """An ISO 14224 style equipment class (pump, motor, compressor, conveyor, ...)."""

    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "equipment classes"

    def __str__(self):
        return self.name


class AssetQuerySet(SiteScopedQuerySet):
    def subtree_of(self, asset, *, include_self=True):
        """The asset and everything below it, by materialised path (one indexed LIKE)."""
        qs = self.filter(path__startswith=asset.path)
        return qs if include_self else qs.exclude(pk=asset.pk)

    def ancestors_of(self, asset, *, include_self=False):
        """The asset's ancestors from the root down (ids come from the path, one query)."""
        ids = asset.ancestor_ids(include_self=include_self)
        return self.filter(pk__in=ids).order_by("depth")


class Asset(models.Model):
    """A node of a site's asset hierarchy: area, line, equipment unit or component.

    `path` is a materialised path of ids ("/12/40/41/") kept by the asset services,
    so subtree and ancestor queries are single indexed queries at any depth.
    """

    site_lookup = "site"
    sync_resource = "assets"

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="assets")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=1000, db_index=True, editable=False, default="")
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    tag = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    level = models.CharField(
        max_length=20, choices=AssetLevel.choices, default=AssetLevel.EQUIPMENT
    )
    equipment_class = models.ForeignKey(
        EquipmentClass, null=True, blank=True, on_delete=models.PROTECT, related_name="assets"
    )
    criticality = models.CharField(max_length=1, choices=Criticality.choices, default=Criticality.B)
    state = models.CharField(
        max_length=20, choices=AssetState.choices, default=AssetState.OPERATING
    )
    manufacturer = models.CharField(max_length=100, blank=True)
    model = models.CharField(max_length=100, blank=True)
    serial_number = models.CharField(max_length=100, blank=True)
    installed_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())  # see sync/triggers.py
    # Kept by the fleet check: set while every sensor watching the asset is silent (stale,
    # never seen, or behind an offline gateway), to the last time any of them was heard.
    # Empty for an asset no sensor watches: no monitoring is not lost monitoring.
    not_monitored_since = models.DateTimeField(null=True, blank=True, editable=False)
    downtime_cost_per_hour = money_field(
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="What an hour of this asset standing still costs the client (in the "
        "customer's currency): the monthly report's estimate of downtime avoided.",
    )

    objects = AssetQuerySet.as_manager()

    class Meta:
        ordering = ["site", "path"]
        constraints = [
            models.UniqueConstraint(fields=["site", "tag"], name="asset_tag_unique_per_site"),
        ]
        indexes = [
            models.Index(fields=["site", "equipment_class"]),
            models.Index(fields=["site", "path"], name="asset_site_path"),  # the lists' order
            # `?tag=` across every site (a superuser's, an integration's lookup by tag alone).
            models.Index(fields=["tag"], name="asset_tag"),
            models.Index(fields=["updated_at", "id"], name="asset_sync"),  # docs/sync.md
            # Searches by tag (exact, prefix) and name (contained), on PostgreSQL.
            trigram_index("tag", name="asset_tag_trgm"),
            trigram_index("name", name="asset_name_trgm"),
            trigram_index("manufacturer", name="asset_manufacturer_trgm"),
            trigram_index("model", name="asset_model_trgm"),
            trigram_index("serial_number", name="asset_serial_number_trgm"),
        ]

    def __str__(self):
        return f"{self.tag} {self.name}"

    def ancestor_ids(self, *, include_self=False) -> list[int]:
        ids = [int(part) for part in self.path.strip("/").split("/") if part]
        return ids if include_self else ids[:-1]

    def clean(self):
        if self.parent_id is not None:
            if self.parent.site_id != self.site_id:
                raise ValidationError({"parent": "The parent asset belongs to another site."})
            if self.pk and self.pk in self.parent.ancestor_ids(include_self=True):
                raise ValidationError({"parent": "An asset cannot be moved below itself."})


class Meter(models.Model):
    """A measuring point on an asset (running hours, cycles, km), read by people or gateways."""

    site_lookup = "asset__site"

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="meters")
    code = models.SlugField(max_length=50)
    name = models.CharField(max_length=100)
    unit = models.CharField(max_length=20)
    cumulative = models.BooleanField(
        default=True, help_text="Readings only grow (running hours); a reset is explicit."
    )

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        ordering = ["asset", "code"]
        constraints = [
            models.UniqueConstraint(fields=["asset", "code"], name="meter_code_unique_per_asset"),
        ]

    def __str__(self):
        return f"{self.asset.tag}/{self.code} ({self.unit})"


class IsolationPoint(models.Model):
    """A point where an energy source of an asset is isolated before work (lockout/tagout):
    a work order's safety steps show its asset's points, in order, to the technician."""

    site_lookup = "asset__site"

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="isolation_points")
    position = models.PositiveSmallIntegerField(default=1)
    code = models.CharField(max_length=50, help_text="The tag on the isolation point, e.g. E-4.")
    energy_type = models.CharField(
        max_length=20, choices=EnergyType.choices, default=EnergyType.ELECTRICAL
    )
    location = models.CharField(max_length=200, blank=True, help_text="Where to find it.")
    method = models.CharField(
        max_length=200, help_text="How to isolate it, e.g. breaker 4 open, lock and tag."
    )

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        ordering = ["asset", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["asset", "code"], name="isolation_point_code_unique_per_asset"
            ),
        ]

    def __str__(self):
        return f"{self.code} ({self.get_energy_type_display()}): {self.method}"


class MeterReading(models.Model):
    """One reading of a meter at a moment."""

    site_lookup = "meter__asset__site"
    sync_resource = "meter-readings"  # append-only: the API's updated_at is recorded_at

    meter = models.ForeignKey(Meter, on_delete=models.CASCADE, related_name="readings")
    value = models.DecimalField(max_digits=16, decimal_places=3)
    observed_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        ordering = ["meter", "-observed_at"]
        indexes = [
            models.Index(fields=["meter", "-observed_at"]),
            models.Index(fields=["recorded_at", "id"], name="meter_reading_sync"),
        ]

    def __str__(self):
        return f"{self.value} at {self.observed_at:%Y-%m-%d %H:%M}"


class Part(models.Model):
    """A spare part (catalogue item) that can be stocked in storerooms."""

    sync_resource = "parts"

    sku = models.CharField("SKU", max_length=64, unique=True)
    name = models.CharField(max_length=200)
    unit = models.CharField(max_length=20, default="pcs")
    unit_cost = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())  # see sync/triggers.py

    class Meta:
        ordering = ["sku"]
        indexes = [
            models.Index(fields=["updated_at", "id"], name="part_sync"),
            trigram_index("sku", name="part_sku_trgm"),
            trigram_index("name", name="part_name_trgm"),
        ]

    def __str__(self):
        return f"{self.sku} {self.name}"


class Storeroom(models.Model):
    """A place at a site where spare parts are kept."""

    site_lookup = "site"
    sync_resource = "storerooms"

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="storerooms")
    code = models.SlugField(max_length=32)
    name = models.CharField(max_length=200)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        ordering = ["site", "code"]
        constraints = [
            models.UniqueConstraint(fields=["site", "code"], name="storeroom_code_unique_per_site"),
        ]

    def __str__(self):
        return f"{self.site.code}/{self.code}"


class StockQuerySet(SiteScopedQuerySet):
    def low(self):
        """Stock at or below its reorder point, counting reservations as gone."""
        return self.filter(on_hand__lte=models.F("reserved") + models.F("reorder_point"))


class Stock(models.Model):
    """How many of a part a storeroom holds. Changed only through the stock services."""

    site_lookup = "storeroom__site"
    sync_resource = "stock"

    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="stock")
    storeroom = models.ForeignKey(Storeroom, on_delete=models.PROTECT, related_name="stock")
    on_hand = models.DecimalField(**QTY, default=Decimal("0"))
    reserved = models.DecimalField(**QTY, default=Decimal("0"))
    reorder_point = models.DecimalField(
        **QTY, default=Decimal("0"), validators=[MinValueValidator(0)]
    )
    bin = models.CharField(max_length=32, blank=True)
    # Moving average cost of one unit in this storeroom (the customer's currency): receipts
    # at their price move it, issues and returns leave it (services.stock_receive).
    average_cost = models.DecimalField(
        **UNIT_COST, default=Decimal("0"), validators=[MinValueValidator(0)]
    )
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())  # see sync/triggers.py

    objects = StockQuerySet.as_manager()

    class Meta:
        ordering = ["storeroom", "part"]
        verbose_name_plural = "stock"
        indexes = [models.Index(fields=["updated_at", "id"], name="stock_sync")]
        constraints = [
            models.UniqueConstraint(
                fields=["part", "storeroom"], name="stock_unique_part_storeroom"
            ),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stock_on_hand_not_negative"),
            models.CheckConstraint(
                condition=Q(reserved__gte=0), name="stock_reserved_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(reserved__lte=models.F("on_hand")),
                name="stock_reserved_within_on_hand",
            ),
        ]

    def __str__(self):
        return f"{self.part.sku} @ {self.storeroom}"

    @property
    def available(self) -> Decimal:
        """What can still be issued or reserved."""
        return self.on_hand - self.reserved


class StockMovement(models.Model):
    """One row of the stock ledger: every change of on-hand quantity is recorded here."""

    site_lookup = "stock__storeroom__site"
    sync_resource = "stock-movements"  # append-only: the API's updated_at is created_at

    stock = models.ForeignKey(Stock, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(max_length=20, choices=MovementKind.choices)
    quantity = models.DecimalField(
        **QTY, help_text="Signed change of on hand: positive in, negative out."
    )
    on_hand_after = models.DecimalField(**QTY)
    work_order = optional_foreign_key(
        "workorders.WorkOrder",
        on_delete=models.PROTECT,
        related_name="stock_movements",
    )
    reason = models.CharField(max_length=200, blank=True)
    # The unit cost this movement was valued at: a receipt's purchase price, an issue's or
    # return's moving average at that moment. Its value is quantity x unit_cost.
    unit_cost = models.DecimalField(**UNIT_COST, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(quantity=0), name="stock_movement_nonzero"),
        ]
        indexes = [models.Index(fields=["created_at", "id"], name="stock_movement_sync")]

    def __str__(self):
        return f"{self.kind} {self.quantity}"
