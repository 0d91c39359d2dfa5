from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from assets.models import MeterReading
from cmms.api.viewsets import (
    SiteScopedCreateReadViewSet,
    SiteScopedNoDeleteViewSet,
    SiteScopedReadOnlyViewSet,
)
from cmms.roles import Role
from pm import filtersets, selectors, services
from pm.api import serializers
from pm.models import MeterReset, PMOccurrence, PMPlan
from workorders.models import WorkOrder


class PMPlanViewSet(SiteScopedNoDeleteViewSet):
    """Preventive maintenance plans. Kept for their history: deactivate instead of deleting."""

    queryset = PMPlan.objects.select_related("site", "asset", "equipment_class", "job_plan")
    serializer_class = serializers.PMPlanSerializer
    filterset_class = filtersets.PMPlanFilterSet
    ordering_fields = {"updated_at": "updated_at", "id": "id"}

    def perform_create(self, serializer):
        serializer.instance = services.pm_plan_save(
            by=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.pm_plan_save(
            plan=serializer.instance, by=self.request.user, **serializer.validated_data
        )

    @extend_schema(
        filters=False,
        parameters=[serializers.ForecastQuerySerializer],
        responses=serializers.ForecastItemSerializer(many=True),
    )
    @action(detail=False)
    def forecast(self, request):
        """PM work due in the next `days` days (default 90) that is not generated yet."""
        query = self.validated(serializers.ForecastQuerySerializer, request.query_params)
        plans = self._plans_of_site(query.get("site"))
        items = selectors.pm_forecast(plans=plans, now=timezone.now(), days=query["days"])
        data = serializers.ForecastItemSerializer([i.as_dict() for i in items], many=True).data
        return Response({"count": len(data), "results": data})

    @extend_schema(
        filters=False,
        parameters=[serializers.ComplianceQuerySerializer],
        responses=serializers.ComplianceSerializer,
    )
    @action(detail=False)
    def compliance(self, request):
        """PM compliance (completed by the planned due date) and backlog for a period."""
        query = self.validated(serializers.ComplianceQuerySerializer, request.query_params)
        work_orders = WorkOrder.objects.for_user(request.user)
        if query.get("site") is not None:
            work_orders = work_orders.filter(site_id=query["site"])
        result = selectors.pm_compliance(
            work_orders=work_orders,
            since=query["since"],
            until=query["until"],
            now=timezone.now(),
        )
        return Response(serializers.ComplianceSerializer(result).data)

    def _plans_of_site(self, site_id):
        plans = PMPlan.objects.for_user(self.request.user)
        return plans.filter(site_id=site_id) if site_id is not None else plans


class PMOccurrenceViewSet(SiteScopedReadOnlyViewSet):
    """Every due date (or meter threshold) of every plan and asset: generated or skipped."""

    queryset = PMOccurrence.objects.select_related("work_order")
    serializer_class = serializers.PMOccurrenceSerializer
    filterset_class = filtersets.PMOccurrenceFilterSet


class MeterReadingViewSet(SiteScopedCreateReadViewSet):
    """Meter readings. A reading below the previous one of a cumulative meter is refused (400)."""

    queryset = MeterReading.objects.select_related("recorded_by").order_by("-observed_at", "-id")
    serializer_class = serializers.MeterReadingSerializer
    filterset_class = filtersets.MeterReadingFilterSet
    # Append-only: `updated_at` is `recorded_at` (docs/sync.md).
    ordering_fields = {"updated_at": "recorded_at", "id": "id"}
    write_roles = frozenset({Role.PLANNER, Role.TECHNICIAN})

    def perform_create(self, serializer):
        serializer.instance = services.meter_reading_record(
            by=self.request.user, **serializer.validated_data
        )


class MeterResetViewSet(SiteScopedCreateReadViewSet):
    """Explicit resets of cumulative meters (replaced or rolled over); planners record them."""

    queryset = MeterReset.objects.select_related("created_by")
    serializer_class = serializers.MeterResetSerializer
    filterset_class = filtersets.MeterResetFilterSet

    def perform_create(self, serializer):
        serializer.instance = services.meter_reset(
            by=self.request.user, **serializer.validated_data
        )
