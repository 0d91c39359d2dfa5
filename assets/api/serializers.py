from decimal import ROUND_HALF_UP, Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from assets import models, services
from assets.services import ASSET_FIELDS, FIXED_SITE
from cmms.api.fields import QUANTITY_NOT_POSITIVE, ScopedPrimaryKeyRelatedField, bounded_decimal
from cmms.api.serializers import HidesCostsMixin, ValidatedModelSerializer, columns


class CustomerSerializer(ValidatedModelSerializer):
    class Meta:
        model = models.Customer
        fields = ["id", "name", "currency"]


class SiteSerializer(ValidatedModelSerializer):
    """A plant. `timezone` is an IANA time zone name such as `Europe/Berlin`."""

    class Meta:
        model = models.Site
        fields = ["id", "customer", "code", "name", "timezone"]


class EquipmentClassSerializer(ValidatedModelSerializer):
    class Meta:
        model = models.EquipmentClass
        fields = ["id", "code", "name"]


class AssetSerializer(serializers.ModelSerializer):
    """A node of a site's asset hierarchy. `path` ("/12/40/41/") and `depth` are kept by the
    server; a new `parent` moves the whole subtree. The site is fixed after creation.
    """

    site = ScopedPrimaryKeyRelatedField(queryset=models.Site.objects.all())
    parent = ScopedPrimaryKeyRelatedField(
        queryset=models.Asset.objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = models.Asset
        fields = [
            "id",
            *ASSET_FIELDS,
            "path",
            "depth",
            "not_monitored_since",
            "created_at",
            "updated_at",
        ]
        # not_monitored_since: set by the fleet check while every sensor watching the asset
        # is silent (the last time one was heard); null when monitored or watched by none.
        read_only_fields = ["path", "depth", "not_monitored_since", "created_at", "updated_at"]
        # (site, tag) uniqueness is checked by the service's full_clean, with the model's message.
        validators = []

    def validate(self, attrs):
        if self.instance is not None:
            services.refuse_fixed(self.instance, {"site": FIXED_SITE}, **attrs)
            attrs.pop("site", None)
        return attrs


class MeterSerializer(ValidatedModelSerializer):
    asset = ScopedPrimaryKeyRelatedField(queryset=models.Asset.objects.all())

    class Meta:
        model = models.Meter
        fields = ["id", "asset", "code", "name", "unit", "cumulative"]


class IsolationPointSerializer(serializers.ModelSerializer):
    """Where an energy source of the asset is isolated before work (lockout/tagout)."""

    class Meta:
        model = models.IsolationPoint
        fields = ["id", "position", "code", "energy_type", "location", "method"]
        read_only_fields = fields


class PartSerializer(HidesCostsMixin, ValidatedModelSerializer):
    cost_fields = ("unit_cost",)

    class Meta:
        model = models.Part
        fields = ["id", "sku", "name", "unit", "unit_cost", "updated_at"]
        read_only_fields = ["updated_at"]


class StoreroomSerializer(ValidatedModelSerializer):
    site = ScopedPrimaryKeyRelatedField(queryset=models.Site.objects.all())

    class Meta:
        model = models.Storeroom
        fields = ["id", "site", "code", "name"]

    def validate(self, attrs):
        if self.instance is not None:  # the service's rule, before the model's checks
            services.refuse_fixed(self.instance, {"site": FIXED_SITE}, **attrs)
        return super().validate(attrs)


class StockSerializer(HidesCostsMixin, ValidatedModelSerializer):
    """Parts held in a storeroom. `on_hand` and `reserved` change only through receipts,
    issues and adjustments (`/receive/`, `/adjust/`, work order `/issue-part/`). Receipts move
    `average_cost` (moving average of a unit; not shown to customer viewers).
    """

    cost_fields = ("average_cost",)

    storeroom = ScopedPrimaryKeyRelatedField(queryset=models.Storeroom.objects.all())
    site = serializers.IntegerField(source="storeroom.site_id", read_only=True)
    sku = serializers.CharField(source="part.sku", read_only=True)
    available = serializers.DecimalField(**models.QTY, read_only=True)

    class Meta:
        model = models.Stock
        fields = [
            "id",
            "part",
            "sku",
            "storeroom",
            "site",
            "on_hand",
            "reserved",
            "available",
            "reorder_point",
            "bin",
            "average_cost",
            "updated_at",
        ]
        read_only_fields = ["on_hand", "reserved", "average_cost", "updated_at"]

    def validate(self, attrs):
        if self.instance is not None:  # the service's rule, before the model's checks
            services.refuse_fixed(self.instance, services.FIXED_STOCK, **attrs)
        return super().validate(attrs)


class StockReceiveSerializer(serializers.Serializer):
    quantity = bounded_decimal(**models.QTY, above_zero=True, message=QUANTITY_NOT_POSITIVE)
    reason = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    unit_cost = serializers.DecimalField(
        max_digits=14,
        decimal_places=4,
        min_value=0,
        required=False,
        help_text="Purchase price of one unit; moves the moving average. Default: the current "
        "average, or the part's unit cost while the stock has none.",
    )


class StockAdjustSerializer(serializers.Serializer):
    counted = bounded_decimal(
        **models.QTY,
        message="A count cannot be negative.",
        help_text="The physical count; becomes on hand.",
    )
    reason = serializers.CharField(max_length=200)


class StockMovementSerializer(HidesCostsMixin, serializers.ModelSerializer):
    """A ledger row; `unit_cost` is what it was valued at (its value: `value`)."""

    cost_fields = ("unit_cost", "value")
    value = serializers.SerializerMethodField(help_text="quantity x unit_cost, to cents.")
    updated_at = serializers.DateTimeField(
        source="created_at", read_only=True, help_text="Ledger rows never change: `created_at`."
    )

    class Meta:
        model = models.StockMovement
        fields = [*columns(models.StockMovement), "value", "updated_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True))
    def get_value(self, movement) -> str | None:
        if movement.unit_cost is None:
            return None
        value = movement.quantity * movement.unit_cost
        return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
