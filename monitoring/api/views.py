from django.db.models import OuterRef, Subquery, Value
from django.db.models.functions import Concat
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from assets.models import Asset
from cmms.api.permissions import RolePermission
from cmms.api.viewsets import SiteScopedNoDeleteViewSet, ValidatedInputMixin
from monitoring import services
from monitoring.api import serializers
from monitoring.choices import Resolution
from monitoring.filtersets import MonitoredMeasurementFilterSet
from monitoring.models import MonitoredMeasurement
from monitoring.selectors import MAX_POINTS, TooManyPoints, measurement_series
from workorders.choices import OPEN_STATUSES
from workorders.models import WorkOrder

ASSET_ID = OpenApiParameter(
    "id", int, OpenApiParameter.PATH, description="A unique integer value identifying this asset."
)
QUERY = [
    OpenApiParameter("name", str, description="Only this measurement (e.g. a condition)."),
    OpenApiParameter("from", OpenApiTypes.DATETIME, description="Start (default: `to` - 1 day)."),
    OpenApiParameter("to", OpenApiTypes.DATETIME, description="End, excluded (default: now)."),
    OpenApiParameter(
        "resolution",
        str,
        enum=Resolution.values,
        description="raw, hour or day (default: raw for ranges up to 7 days, else hour).",
    ),
]


class AssetMeasurementViewSet(ValidatedInputMixin, viewsets.GenericViewSet):
    """An asset's measurements over a time range, per measurement name."""

    # `/assets/{id}/measurements/`, the asset's route served by the monitoring app (assets sit
    # below monitoring); another site's asset is a 404, as on the asset's own routes.
    permission_classes = [RolePermission]
    serializer_class = serializers.MeasurementsSerializer
    pagination_class = None

    def get_view_name(self):
        return "Measurements"

    @extend_schema(
        filters=False,
        parameters=[ASSET_ID, *QUERY],
        responses=serializers.MeasurementsSerializer,
    )
    def list(self, request, pk=None):
        """The asset's measurements in [from, to): unit and points per name, oldest first;
        raw points are [at, value], hourly and daily ones [start, min, mean, max, count]."""
        asset = get_object_or_404(Asset.objects.for_user(request.user), pk=pk)
        query = self.validated(serializers.MeasurementQuerySerializer, request.query_params)
        try:
            series = measurement_series(
                asset_id=asset.pk,
                start=query["start"],
                end=query["end"],
                resolution=query["resolution"],
                name=query["name"],
            )
        except TooManyPoints:
            raise ValidationError(
                {
                    "resolution": f"More than {MAX_POINTS} points; ask for a coarser "
                    "resolution or a shorter range."
                }
            ) from None
        return Response(
            {
                "asset": asset.pk,
                "from": query["start"],
                "to": query["end"],
                "resolution": query["resolution"],
                "measurements": [
                    {"name": s.name, "unit": s.unit, "points": s.points} for s in series
                ],
            }
        )


class MonitoredMeasurementViewSet(SiteScopedNoDeleteViewSet):
    """Watched measurements: an asset's measurement with its alarm limit, assessed every 15
    minutes (docs/monitoring.md). Planners write the limits; disable one rather than delete it
    (its proposals and their evidence stay)."""

    queryset = MonitoredMeasurement.objects.select_related("asset")
    serializer_class = serializers.MonitoredMeasurementSerializer
    filterset_class = MonitoredMeasurementFilterSet
    ordering_fields = {"projected_at": "projected_at", "id": "id"}

    def get_queryset(self):
        proposal = WorkOrder.objects.filter(
            asset_id=OuterRef("asset_id"),
            condition=Concat(Value("trend."), OuterRef("name")),
            status__in=OPEN_STATUSES,
        ).values("pk")[:1]
        return super().get_queryset().annotate(open_proposal=Subquery(proposal)).order_by("id")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.monitored_measurement_save(
            asset=data.pop("asset"), by=self.request.user, **data
        )
        serializer.instance.open_proposal = None

    def perform_update(self, serializer):
        instance = serializer.instance
        saved = services.monitored_measurement_save(
            monitored=instance, by=self.request.user, **serializer.validated_data
        )
        saved.open_proposal = getattr(instance, "open_proposal", None)
        serializer.instance = saved
