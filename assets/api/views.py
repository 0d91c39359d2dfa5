from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from assets import filtersets, models, services
from assets.api import serializers
from cmms.api.viewsets import (
    CatalogueModelViewSet,
    SiteScopedModelViewSet,
    SiteScopedNoDeleteViewSet,
    SiteScopedReadOnlyViewSet,
)


class ServiceWritesMixin:
    """Creating and changing go through the model's services, after the serializer checked
    the input's shape: `services.<model>_create(**data)` and
    `services.<model>_update(<model>=row, **data)`, named after the queryset's model."""

    def perform_create(self, serializer):
        serializer.instance = self._service("create")(**serializer.validated_data)

    def perform_update(self, serializer):
        self._service("update")(
            **{self._model_name(): serializer.instance}, **serializer.validated_data
        )

    def _service(self, verb: str):
        return getattr(services, f"{self._model_name()}_{verb}")

    def _model_name(self) -> str:
        return self.queryset.model._meta.model_name


class CustomerViewSet(ServiceWritesMixin, CatalogueModelViewSet):
    """Clients; users see the customers of their sites. Only superusers write."""

    queryset = models.Customer.objects.all()
    serializer_class = serializers.CustomerSerializer
    filterset_class = filtersets.CustomerFilterSet

    def get_queryset(self):
        return super().get_queryset().for_user(self.request.user)


class SiteViewSet(ServiceWritesMixin, SiteScopedModelViewSet):
    """Plants. Only superusers write."""

    queryset = models.Site.objects.all()
    serializer_class = serializers.SiteSerializer
    filterset_class = filtersets.SiteFilterSet
    write_roles = frozenset()


class EquipmentClassViewSet(CatalogueModelViewSet):
    """ISO 14224 equipment classes, shared by every customer: superusers write."""

    queryset = models.EquipmentClass.objects.all()
    serializer_class = serializers.EquipmentClassSerializer
    filterset_class = filtersets.EquipmentClassFilterSet


class AssetViewSet(ServiceWritesMixin, SiteScopedNoDeleteViewSet):
    """The asset hierarchy. Assets are decommissioned (`state`), never deleted."""

    queryset = models.Asset.objects.all()
    serializer_class = serializers.AssetSerializer
    filterset_class = filtersets.AssetFilterSet
    ordering_fields = {"updated_at": "updated_at", "id": "id"}

    @extend_schema(filters=False, responses=serializers.AssetSerializer(many=True))
    @action(detail=True)
    def ancestors(self, request, pk=None):
        """The asset's ancestors from the top of the hierarchy down (paginated)."""
        asset = self.get_object()
        return self._page(models.Asset.objects.for_user(request.user).ancestors_of(asset))

    @extend_schema(filters=False, responses=serializers.AssetSerializer(many=True))
    @action(detail=True)
    def subtree(self, request, pk=None):
        """The asset and everything below it, in hierarchy order (paginated)."""
        asset = self.get_object()
        return self._page(
            models.Asset.objects.for_user(request.user).subtree_of(asset).order_by("path")
        )

    @extend_schema(filters=False, responses=serializers.IsolationPointSerializer(many=True))
    @action(detail=True, url_path="isolation-points", pagination_class=None)
    def isolation_points(self, request, pk=None):
        """The asset's isolation points in order: what a lockout/tagout step isolates
        (docs/safety.md). Written by planners in the admin."""
        asset = self.get_object()
        points = models.IsolationPoint.objects.filter(asset=asset)
        return Response(serializers.IsolationPointSerializer(points, many=True).data)

    def _page(self, queryset):
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class MeterViewSet(ServiceWritesMixin, SiteScopedNoDeleteViewSet):
    """Measuring points on assets; kept with their readings, never deleted through the API."""

    queryset = models.Meter.objects.all()
    serializer_class = serializers.MeterSerializer
    filterset_class = filtersets.MeterFilterSet


class PartViewSet(ServiceWritesMixin, CatalogueModelViewSet):
    """The spare parts catalogue, shared by every site's stock and costs: superusers write."""

    queryset = models.Part.objects.all()
    serializer_class = serializers.PartSerializer
    filterset_class = filtersets.PartFilterSet
    ordering_fields = {"updated_at": "updated_at", "sku": "sku", "id": "id"}


class StoreroomViewSet(ServiceWritesMixin, SiteScopedModelViewSet):
    queryset = models.Storeroom.objects.all()
    serializer_class = serializers.StoreroomSerializer
    filterset_class = filtersets.StoreroomFilterSet


class StockViewSet(ServiceWritesMixin, SiteScopedModelViewSet):
    """Parts per storeroom. Quantities change through `receive`, `adjust` and work orders."""

    queryset = models.Stock.objects.select_related("part", "storeroom")
    serializer_class = serializers.StockSerializer
    filterset_class = filtersets.StockFilterSet
    ordering_fields = {"updated_at": "updated_at", "id": "id"}

    @extend_schema(
        request=serializers.StockReceiveSerializer, responses=serializers.StockSerializer
    )
    @action(detail=True, methods=["post"])
    def receive(self, request, pk=None):
        """Parts arrive: on hand goes up by `quantity` (a receipt in the ledger)."""
        stock = self.get_object()
        data = self.validated(serializers.StockReceiveSerializer)
        services.stock_receive(stock=stock, by=request.user, **data)
        return self._fresh(stock)

    @extend_schema(request=serializers.StockAdjustSerializer, responses=serializers.StockSerializer)
    @action(detail=True, methods=["post"])
    def adjust(self, request, pk=None):
        """A physical count: on hand becomes `counted` (the difference is an adjustment)."""
        stock = self.get_object()
        data = self.validated(serializers.StockAdjustSerializer)
        services.stock_adjust(stock=stock, by=request.user, **data)
        return self._fresh(stock)

    def _fresh(self, stock):
        stock = self.get_queryset().get(pk=stock.pk)
        return Response(
            serializers.StockSerializer(stock, context=self.get_serializer_context()).data
        )


class StockMovementViewSet(SiteScopedReadOnlyViewSet):
    """The stock ledger: one row per change of on hand, newest first."""

    queryset = models.StockMovement.objects.all()
    serializer_class = serializers.StockMovementSerializer
    filterset_class = filtersets.StockMovementFilterSet
    # Append-only: `updated_at` is `created_at` (docs/sync.md).
    ordering_fields = {"updated_at": "created_at", "created_at": "created_at", "id": "id"}
