from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from assets.models import Asset
from cmms.api.permissions import IsPlanner, RolePermission
from cmms.api.viewsets import SiteScopedModelViewSet, SiteScopedNoDeleteViewSet
from cmms.http import never_store
from cmms.roles import Role
from gateways import gateway_secrets, services
from gateways.api import serializers
from gateways.filtersets import GatewayFilterSet, SensorFilterSet
from gateways.models import Gateway, GatewaySecret, Sensor


def _per_gateway(rows, gateway_path: str) -> Coalesce:
    """How many of `rows` (correlated with the outer gateway through OuterRef) each gateway
    has, as a scalar subquery: one figure per listed gateway inside the list's one query."""
    counted = rows.order_by().values(gateway_path).annotate(n=Count("pk", distinct=True))
    return Coalesce(Subquery(counted.values("n"), output_field=IntegerField()), 0)


def gateways_with_health(queryset, now):
    """Gateways with their status at `now`, how many active sensors they have and how many of
    the assets those watch are not monitored now; one query for a page of any size."""
    return queryset.with_connectivity(now).annotate(
        sensor_count=_per_gateway(
            Sensor.objects.filter(gateway=OuterRef("pk"), is_active=True), "gateway"
        ),
        unmonitored_asset_count=_per_gateway(
            Asset.objects.filter(
                sensors__gateway=OuterRef("pk"),
                sensors__is_active=True,
                not_monitored_since__isnull=False,
            ),
            "sensors__gateway",
        ),
    )


class GatewayViewSet(SiteScopedModelViewSet):
    """Gateways of the user's sites; only planners see and manage them (ids are webhook URLs)."""

    permission_classes = [IsPlanner]
    queryset = Gateway.objects.prefetch_related(
        Prefetch("secrets", queryset=GatewaySecret.objects.filter(retired_at=None))
    )
    serializer_class = serializers.GatewaySerializer
    filterset_class = GatewayFilterSet
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return gateways_with_health(super().get_queryset(), timezone.now())

    @extend_schema(responses={201: serializers.GatewayCreatedSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        settings = {
            name: data.pop(name)
            for name in (
                "asset",
                "model",
                "heartbeat_interval_seconds",
                "heartbeat_grace_seconds",
                "sparkplug_group_id",
                "sparkplug_edge_node_id",
            )
            if name in data
        }
        with transaction.atomic():  # refused settings leave no gateway behind
            gateway, secret = services.gateway_create(by=request.user, **data)
            if settings:
                services.gateway_update(gateway=gateway, by=request.user, **settings)
        gateway = self._reload(gateway, secret)
        data = serializers.GatewayCreatedSerializer(gateway, context=self.get_serializer_context())
        return never_store(Response(data.data, status=status.HTTP_201_CREATED))

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("site", None)
        gateway = services.gateway_update(gateway=serializer.instance, by=self.request.user, **data)
        serializer.instance = self._reload(gateway)  # its status and counts as they are now

    @extend_schema(request=None, responses={201: serializers.SecretSerializer})
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """Issue a new secret (shown once); the old ones verify until retire-secrets."""
        secret = services.gateway_rotate_secret(gateway=self.get_object(), by=request.user)
        return never_store(
            Response(
                {"secret": secret, "fingerprint": gateway_secrets.fingerprint(secret)},
                status=status.HTTP_201_CREATED,
            )
        )

    @extend_schema(request=None, responses={200: serializers.GatewaySerializer})
    @action(detail=True, methods=["post"], url_path="retire-secrets")
    def retire_secrets(self, request, pk=None):
        """Retire every secret but the newest, ending a rotation."""
        gateway = self.get_object()
        services.gateway_retire_secrets(gateway=gateway, by=request.user)
        return Response(self.get_serializer(self._reload(gateway)).data)

    def _reload(self, gateway, secret=None):
        fresh = self.get_queryset().get(pk=gateway.pk)
        if secret is not None:
            fresh.secret = secret
        return fresh


class FieldStaffOnly(RolePermission):
    """Planners and technicians (and superusers) read; planners write. Customer viewers see
    the plant's work, not its instrumentation: 403."""

    def has_permission(self, request, view):
        user = request.user
        if not super().has_permission(request, view):
            return False
        return user.is_superuser or user.role in (Role.PLANNER, Role.TECHNICIAN)


class SensorViewSet(SiteScopedNoDeleteViewSet):
    """Sensors of the user's sites: planners and technicians read them, planners record and
    change them (a sensor is deactivated, never deleted: its events and work refer to it)."""

    permission_classes = [FieldStaffOnly]
    queryset = Sensor.objects.select_related("gateway")
    serializer_class = serializers.SensorSerializer
    filterset_class = SensorFilterSet
    http_method_names = ["get", "post", "patch", "head", "options"]

    def perform_create(self, serializer):
        serializer.instance = services.sensor_create(
            by=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("gateway", None)
        serializer.instance = services.sensor_update(
            sensor=serializer.instance, by=self.request.user, **data
        )
