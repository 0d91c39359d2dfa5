from rest_framework import serializers

from assets import services
from assets.models import (
    QTY,
    Asset,
    Customer,
    EquipmentClass,
    Meter,
    Part,
    Site,
    Stock,
    StockMovement,
    Storeroom,
)
from assets.services import ASSET_FIELDS, FIXED_SITE
from cmms.api.fields import ScopedPrimaryKeyRelatedField
from cmms.api.serializers import ValidatedModelSerializer, columns


class CustomerSerializer(ValidatedModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "name"]


class SiteSerializer(ValidatedModelSerializer):
    """A plant. `timezone` is an IANA time zone name such as `Europe/Berlin`."""

    class Meta:
        model = Site
        fields = ["id", "customer", "code", "name", "timezone"]


class EquipmentClassSerializer(ValidatedModelSerializer):
    class Meta:
        model = EquipmentClass
        fields = ["id", "code", "name"]


class AssetSerializer(serializers.ModelSerializer):
    """A node of a site's asset hierarchy. `path` ("/12/40/41/") and `depth` are kept by the
    server; a new `parent` moves the whole subtree. The site is fixed after creation.
    """

    site = ScopedPrimaryKeyRelatedField(queryset=Site.objects.all())
    parent = ScopedPrimaryKeyRelatedField(
        queryset=Asset.objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = Asset
        fields = ["id", *ASSET_FIELDS, "path", "depth", "created_at"]
        read_only_fields = ["path", "depth", "created_at"]
        # (site, tag) uniqueness is checked by the service's full_clean, with the model's message.
        validators = []

    def validate(self, attrs):
        if self.instance is not None:
            services.refuse_fixed(self.instance, {"site": FIXED_SITE}, **attrs)
            attrs.pop("site", None)
        return attrs


class MeterSerializer(ValidatedModelSerializer):
    asset = ScopedPrimaryKeyRelatedField(queryset=Asset.objects.all())

    class Meta:
        model = Meter
        fields = ["id", "asset", "code", "name", "unit", "cumulative"]


class PartSerializer(ValidatedModelSerializer):
    class Meta:
        model = Part
        fields = ["id", "sku", "name", "unit", "unit_cost"]


class StoreroomSerializer(ValidatedModelSerializer):
    site = ScopedPrimaryKeyRelatedField(queryset=Site.objects.all())

    class Meta:
        model = Storeroom
        fields = ["id", "site", "code", "name"]

    def validate(self, attrs):
        if self.instance is not None:  # the service's rule, before the model's checks
            services.refuse_fixed(self.instance, {"site": FIXED_SITE}, **attrs)
        return super().validate(attrs)


class StockSerializer(ValidatedModelSerializer):
    """Parts held in a storeroom. `on_hand` and `reserved` change only through receipts,
    issues and adjustments (`/receive/`, `/adjust/`, work order `/issue-part/`).
    """

    storeroom = ScopedPrimaryKeyRelatedField(queryset=Storeroom.objects.all())
    site = serializers.IntegerField(source="storeroom.site_id", read_only=True)
    sku = serializers.CharField(source="part.sku", read_only=True)
    available = serializers.DecimalField(**QTY, read_only=True)

    class Meta:
        model = Stock
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
        ]
        read_only_fields = ["on_hand", "reserved"]

    def validate(self, attrs):
        if self.instance is not None:  # the service's rule, before the model's checks
            services.refuse_fixed(self.instance, services.FIXED_STOCK, **attrs)
        return super().validate(attrs)


class StockReceiveSerializer(serializers.Serializer):
    quantity = serializers.DecimalField(**QTY)
    reason = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class StockAdjustSerializer(serializers.Serializer):
    counted = serializers.DecimalField(**QTY, help_text="The physical count; becomes on hand.")
    reason = serializers.CharField(max_length=200)


class StockMovementSerializer(serializers.ModelSerializer):
    class Meta:
        model = StockMovement
        fields = columns(StockMovement)
        read_only_fields = fields
