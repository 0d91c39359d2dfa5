from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.generics import get_object_or_404

from alerts.api import serializers
from alerts.filtersets import AlertFilterSet
from alerts.models import Alert
from cmms.api.viewsets import SiteScopedMixin, SiteScopedReadOnlyViewSet
from workorders.models import WorkOrder


class AlertViewSet(SiteScopedReadOnlyViewSet):
    """Condition alerts of the user's sites, newest first (read-only: gateways write them)."""

    queryset = Alert.objects.all()
    serializer_class = serializers.AlertSerializer
    filterset_class = AlertFilterSet
    ordering_fields = {"updated_at": "updated_at", "received_at": "received_at", "id": "id"}


WORK_ORDER_ID = OpenApiParameter(
    "id",
    int,
    OpenApiParameter.PATH,
    description="A unique integer value identifying this work order.",
)


class WorkOrderAlertViewSet(SiteScopedMixin, viewsets.GenericViewSet):
    """The alerts behind the work order (provenance), newest first (paginated)."""

    # `/work-orders/{id}/alerts/`, the work order's route served by the alerts app (work orders
    # sit below alerts); another site's work order is a 404, as on the work order's own routes.
    queryset = Alert.objects.all()
    serializer_class = serializers.AlertSerializer

    def get_view_name(self):
        return "Alerts"  # as the work order's `alerts` action was named

    @extend_schema(
        filters=False,
        parameters=[WORK_ORDER_ID],
        responses=serializers.AlertSerializer(many=True),
    )
    def list(self, request, pk=None):
        """The alerts behind the work order (provenance), newest first (paginated)."""
        work_order = get_object_or_404(WorkOrder.objects.for_user(request.user), pk=pk)
        page = self.paginate_queryset(work_order.alerts.order_by("-observed_at", "-id"))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
