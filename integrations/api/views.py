from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.viewsets import ModelViewSet

from cmms.api.permissions import RolePermission
from cmms.http import never_store
from cmms.roles import Role
from integrations import delivery, selectors, services
from integrations.api import serializers
from integrations.models import WebhookEndpoint


class WebhookEndpointViewSet(ModelViewSet):
    """The user's own outbound endpoints (superusers: everyone's). Planners and customer
    viewers subscribe; technicians do not."""

    permission_classes = [RolePermission]
    write_roles = frozenset({Role.PLANNER, Role.CUSTOMER_VIEWER})
    queryset = WebhookEndpoint.objects.prefetch_related("sites")
    serializer_class = serializers.WebhookEndpointSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return super().get_queryset().for_user(self.request.user)

    @extend_schema(responses={201: serializers.WebhookEndpointCreatedSerializer})
    def create(self, request, *args, **kwargs):
        data = self.validated(self.get_serializer_class())
        endpoint, secret = services.endpoint_create(owner=request.user, **data)
        endpoint.secret = secret
        answer = serializers.WebhookEndpointCreatedSerializer(
            endpoint, context=self.get_serializer_context()
        )
        return never_store(Response(answer.data, status=status.HTTP_201_CREATED))

    def perform_update(self, serializer):
        serializer.instance = services.endpoint_update(
            endpoint=serializer.instance, **serializer.validated_data
        )

    def validated(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(request=None, responses={201: serializers.EndpointSecretSerializer})
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """Issue a new secret (shown once); deliveries are signed with it from now on."""
        endpoint = self.get_object()
        secret = services.endpoint_rotate_secret(endpoint=endpoint)
        body = {"secret": secret, "fingerprint": endpoint.secret_fingerprint}
        return never_store(Response(body, status=status.HTTP_201_CREATED))

    @extend_schema(responses={200: serializers.DeliverySerializer(many=True)})
    @action(detail=True, methods=["get"], url_path="deliveries")
    def deliveries(self, request, pk=None):
        """The endpoint's delivery log, newest first, each with its attempts."""
        page = self.paginate_queryset(selectors.deliveries_of(self.get_object()))
        data = serializers.DeliverySerializer(page, many=True).data
        return self.get_paginated_response(data)

    @extend_schema(request=None, responses={202: serializers.DeliverySerializer})
    @action(
        detail=True,
        methods=["post"],
        url_path=r"deliveries/(?P<delivery_id>\d+)/replay",
    )
    def replay(self, request, pk=None, delivery_id=None):
        """Send a delivery again now (the receiver sees the same webhook-id)."""
        endpoint = self.get_object()
        found = get_object_or_404(selectors.deliveries_of(endpoint), pk=delivery_id)
        replayed = delivery.delivery_replay(delivery=found)
        data = serializers.DeliverySerializer(replayed).data
        return Response(data, status=status.HTTP_202_ACCEPTED)
