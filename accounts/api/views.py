from datetime import timedelta

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts import filtersets, policy, services
from accounts.api import serializers
from accounts.models import ApiToken, User
from accounts.selectors import user_list
from assets.models import Site
from cmms.api.permissions import IsPlanner
from cmms.api.viewsets import ValidatedInputMixin
from cmms.http import never_store


class UserViewSet(
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """Accounts: superusers manage everyone; planners see the people of their sites and change
    those whose sites are all theirs (anyone else they see is read-only: 403).

    Accounts are deactivated (`is_active: false`), never deleted, so their history stays.
    """

    queryset = User.objects.none()  # for the schema; get_queryset restricts per user
    serializer_class = serializers.UserSerializer
    filterset_class = filtersets.UserFilterSet
    permission_classes = [IsPlanner]
    ordering_fields = {"updated_at": "updated_at", "username": "username", "id": "id"}

    def get_queryset(self):
        viewer = self.request.user
        return (
            user_list(viewer=viewer)
            .prefetch_related(
                Prefetch("sites", queryset=Site.objects.for_user(viewer).only("id")), "skills"
            )
            .order_by("username")
        )

    def check_object_permissions(self, request, obj):
        """Writes to an account the planner may not manage are refused before the body is even
        validated (`policy.user_management_refusal`, the rule the service applies again)."""
        super().check_object_permissions(request, obj)
        if self.action in {"update", "partial_update"}:
            refusal = policy.user_management_refusal(by=request.user, user=obj)
            if refusal:
                raise PermissionDenied(refusal)

    def perform_create(self, serializer):
        user = services.user_create(by=self.request.user, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=user.pk)

    def perform_update(self, serializer):
        user = services.user_update(
            user=serializer.instance, by=self.request.user, **serializer.validated_data
        )
        serializer.instance = self.get_queryset().get(pk=user.pk)

    @extend_schema(responses=serializers.UserSerializer)
    @action(detail=False, permission_classes=[IsAuthenticated])
    def me(self, request):
        """The account of whoever is calling (any role)."""
        user = User.objects.prefetch_related("sites", "skills").get(pk=request.user.pk)
        return Response(self.get_serializer(user).data)


class ApiTokenViewSet(
    ValidatedInputMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """API tokens, one per device or integration: issue, list, revoke one or all.

    Everyone issues and revokes their own tokens, issuing from a signed-in session only (a
    stolen token cannot mint one that outlives it). Planners also see and revoke the tokens of
    the users they manage (a technician's lost phone); superusers everyone's, and may issue a
    token for an integration account (`user`). `DELETE` revokes a token at once.
    """

    queryset = ApiToken.objects.none()  # for the schema; get_queryset restricts per user
    serializer_class = serializers.ApiTokenSerializer
    filterset_class = filtersets.ApiTokenFilterSet
    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        viewer = self.request.user
        return ApiToken.objects.filter(user__in=user_list(viewer=viewer)).select_related("user")

    @extend_schema(responses={201: serializers.ApiTokenIssuedSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        days = data.get("expires_in_days")
        token, key = services.api_token_issue(
            user=data.get("user", request.user),
            name=data["name"],
            by=request.user,
            from_token=isinstance(request.auth, ApiToken),
            **({"expires_in": timedelta(days=days)} if days else {}),
        )
        token.token = key
        body = serializers.ApiTokenIssuedSerializer(token, context=self.get_serializer_context())
        return never_store(Response(body.data, status=status.HTTP_201_CREATED))

    def perform_destroy(self, instance):
        services.api_token_revoke(token=instance, by=self.request.user)

    @extend_schema(
        request=serializers.ApiTokenRevokeAllSerializer,
        responses=serializers.ApiTokensRevokedSerializer,
    )
    @action(detail=False, methods=["post"], url_path="revoke-all")
    def revoke_all(self, request):
        """Revoke every token of a user (the caller by default), e.g. after a lost phone."""
        data = self.validated(serializers.ApiTokenRevokeAllSerializer)
        user = data.get("user", request.user)
        revoked = services.api_token_revoke_all(user=user, by=request.user)
        return Response({"revoked": revoked})
