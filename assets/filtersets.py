import django_filters
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from assets import models
from assets.choices import AssetLevel, AssetState, Criticality, MovementKind
from cmms.api.filters import (
    FilterSet,
    IntegerFilter,
    MomentFilter,
    MultipleChoiceFilter,
    SyncFilterSet,
)
from cmms.inputs import parse_id


def _assets_of(request):
    return models.Asset.objects.for_user(getattr(request, "user", None))


@extend_schema_field(OpenApiTypes.INT)
class AssetIdFilter(django_filters.ModelChoiceFilter):
    """An asset of the user's sites by id; any other id is a 400."""


class CustomerFilterSet(FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = models.Customer
        fields = ["name"]


class SiteFilterSet(FilterSet):
    customer = IntegerFilter(field_name="customer")

    class Meta:
        model = models.Site
        fields = ["code"]


class AssetFilterSet(SyncFilterSet):
    """`?subtree_of=<id>`: that asset and everything below it, at any depth."""

    site = IntegerFilter(field_name="site")
    parent = IntegerFilter(field_name="parent")
    root = django_filters.BooleanFilter(
        field_name="parent", lookup_expr="isnull", label="Only top-level assets"
    )
    criticality = MultipleChoiceFilter(choices=Criticality.choices)
    state = MultipleChoiceFilter(choices=AssetState.choices)
    level = MultipleChoiceFilter(choices=AssetLevel.choices)
    equipment_class = django_filters.CharFilter(
        method="filter_equipment_class", label="Equipment class id or code"
    )
    subtree_of = AssetIdFilter(
        queryset=_assets_of, method="filter_subtree_of", label="Asset id: it and its descendants"
    )

    class Meta:
        model = models.Asset
        fields = ["tag"]

    def filter_equipment_class(self, queryset, name, value):
        class_id = parse_id(value)
        if class_id is not None:
            return queryset.filter(equipment_class_id=class_id)
        if value.isdigit():  # digits no id has (too large, or such as "²")
            return queryset.none()
        return queryset.filter(equipment_class__code=value)

    def filter_subtree_of(self, queryset, name, value):
        return queryset.subtree_of(value)


class MeterFilterSet(FilterSet):
    site = IntegerFilter(field_name="asset__site")
    asset = IntegerFilter(field_name="asset")

    class Meta:
        model = models.Meter
        fields = ["code"]


class StoreroomFilterSet(FilterSet):
    site = IntegerFilter(field_name="site")

    class Meta:
        model = models.Storeroom
        fields = ["code"]


class StockFilterSet(SyncFilterSet):
    """`?low=true`: at or below the reorder point, counting reservations as gone."""

    site = IntegerFilter(field_name="storeroom__site")
    storeroom = IntegerFilter(field_name="storeroom")
    part = IntegerFilter(field_name="part")
    low = django_filters.BooleanFilter(method="filter_low", label="At or below reorder point")

    class Meta:
        model = models.Stock
        fields = ["bin"]

    def filter_low(self, queryset, name, value):
        low = queryset.low()
        return low if value else queryset.exclude(pk__in=low.values("pk"))


class StockMovementFilterSet(FilterSet):
    """The ledger is append-only: a movement's `updated_at` is when it was made."""

    kind = MultipleChoiceFilter(choices=MovementKind.choices)
    updated_at__gte = MomentFilter(field_name="created_at", lookup_expr="gte")
    updated_at__lt = MomentFilter(field_name="created_at", lookup_expr="lt")
    site = IntegerFilter(field_name="stock__storeroom__site")
    part = IntegerFilter(field_name="stock__part")
    stock = IntegerFilter(field_name="stock")
    work_order = IntegerFilter(field_name="work_order")

    class Meta:
        model = models.StockMovement
        fields = []


class EquipmentClassFilterSet(FilterSet):
    class Meta:
        model = models.EquipmentClass
        fields = ["code"]


class PartFilterSet(SyncFilterSet):
    q = django_filters.CharFilter(method="filter_q", label="SKU or name contains")

    class Meta:
        model = models.Part
        fields = ["sku"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(sku__icontains=value) | Q(name__icontains=value))
