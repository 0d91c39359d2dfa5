from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
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
from pm.models import MeterReset, PMOccurrence, PMPlan, RoundResult, RoundRun, Route, RouteCheck
from sync.idempotency import KEY_PARAMETER, idempotent
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


class RouteViewSet(SiteScopedReadOnlyViewSet):
    """Inspection routes with their points and checks in walking order (planners edit them in
    the admin)."""

    queryset = Route.objects.select_related("site").prefetch_related(
        "points__asset", "points__checks"
    )
    serializer_class = serializers.RouteSerializer
    filterset_fields = ["site", "is_active"]


ROUND_REFUSALS = {
    400: OpenApiResponse(description="A missing or invalid answer, or a check of another route"),
    403: OpenApiResponse(description="Customer viewers do not walk rounds"),
    409: OpenApiResponse(description="The round is completed or missed (`round_closed`)"),
}


class RoundRunViewSet(SiteScopedReadOnlyViewSet):
    """Runs of inspection routes with their results; technicians record results and complete
    runs. Each write is safe to repeat (docs/rounds.md)."""

    queryset = RoundRun.objects.select_related("route").prefetch_related(
        Prefetch(
            "results", queryset=RoundResult.objects.select_related("work_order", "recorded_by")
        )
    )
    serializer_class = serializers.RoundRunSerializer
    filterset_fields = ["route", "status", "assignee"]
    write_roles = frozenset({Role.PLANNER, Role.TECHNICIAN})

    @extend_schema(
        parameters=[KEY_PARAMETER],
        request=serializers.RoundResultRecordSerializer,
        responses={200: serializers.RoundResultSerializer, **ROUND_REFUSALS},
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def results(self, request, pk=None):
        """Record (or correct) one check's result; repeating the same answer changes nothing.
        Out of limits or failed: one work request, linked as `work_order`."""
        run = self.get_object()
        data = self.validated(serializers.RoundResultRecordSerializer)
        check = RouteCheck.objects.for_user(request.user).filter(pk=data["check"]).first()
        if check is None:
            raise ValidationError({"check": "No such check on this round's route."})
        result = services.round_result_record(
            run=run,
            route_check=check,
            by=request.user,
            value=data.get("value"),
            passed=data.get("passed"),
            note=data["note"],
        )
        return Response(serializers.RoundResultSerializer(result).data)

    @extend_schema(
        parameters=[KEY_PARAMETER],
        request=None,
        responses={200: serializers.RoundRunSerializer, **ROUND_REFUSALS},
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def complete(self, request, pk=None):
        """Complete the run once every check has a result; repeating it changes nothing."""
        run = services.round_run_complete(run=self.get_object(), by=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=run.pk)).data)
