from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from cmms.api.permissions import IsPlanner
from cmms.api.viewsets import SiteScopedModelViewSet
from cmms.http import never_store
from gateways import gateway_secrets, services
from gateways.api import serializers
from gateways.filtersets import GatewayFilterSet
from gateways.models import Gateway, GatewaySecret


class GatewayViewSet(SiteScopedModelViewSet):
    """Gateways of the user's sites; only planners see and manage them (ids are webhook URLs)."""

    permission_classes = [IsPlanner]
    queryset = Gateway.objects.prefetch_related(
        Prefetch("secrets", queryset=GatewaySecret.objects.filter(retired_at=None))
    )
    serializer_class = serializers.GatewaySerializer
    filterset_class = GatewayFilterSet
    http_method_names = ["get", "post", "patch", "head", "options"]

    @extend_schema(responses={201: serializers.GatewayCreatedSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        gateway, secret = services.gateway_create(by=request.user, **serializer.validated_data)
        gateway = self._reload(gateway, secret)
        data = serializers.GatewayCreatedSerializer(gateway, context=self.get_serializer_context())
        return never_store(Response(data.data, status=status.HTTP_201_CREATED))

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("site", None)
        serializer.instance = services.gateway_update(
            gateway=serializer.instance, by=self.request.user, **data
        )

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
        fresh = self.queryset.get(pk=gateway.pk)
        if secret is not None:
            fresh.secret = secret
        return fresh
