from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from assets.models import Asset
from cmms.api.permissions import RolePermission
from cmms.api.viewsets import ValidatedInputMixin
from monitoring.api import serializers
from monitoring.choices import Resolution
from monitoring.selectors import MAX_POINTS, TooManyPoints, measurement_series

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
