from rest_framework.permissions import SAFE_METHODS

from cmms.api.permissions import RolePermission
from cmms.api.viewsets import SiteScopedNoDeleteViewSet
from cmms.roles import Role
from contracts import filtersets, services
from contracts.api import serializers
from contracts.models import BusinessCalendar, Contract


class ContractReaders(RolePermission):
    """Contracts are the partner's and the client's business: planners and customer viewers
    read them (and superusers); technicians' work orders carry the due dates they need."""

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        user = request.user
        return (
            request.method not in SAFE_METHODS
            or user.is_superuser
            or user.role
            in (
                Role.PLANNER,
                Role.CUSTOMER_VIEWER,
            )
        )


class ContractViewSet(SiteScopedNoDeleteViewSet):
    """Contracts covering the user's sites. Planners of every site a contract covers create
    and change it (others: 403); customer viewers read their sites' contracts (their own
    terms). Contracts end (`ends_on`) or are deactivated, never deleted."""

    queryset = Contract.objects.select_related("customer").prefetch_related(
        "sites", "assets", "targets", "billing_rates__skill"
    )
    serializer_class = serializers.ContractSerializer
    filterset_class = filtersets.ContractFilterSet
    permission_classes = [ContractReaders]
    ordering_fields = {
        "reference": "reference",
        "starts_on": "starts_on",
        "updated_at": "updated_at",
        "id": "id",
    }

    def perform_create(self, serializer):
        serializer.instance = services.contract_create(
            by=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        services.contract_update(
            contract=serializer.instance, by=self.request.user, **serializer.validated_data
        )


class BusinessCalendarViewSet(SiteScopedNoDeleteViewSet):
    """Business calendars of the user's sites (one per site), with their holidays; everyone
    at the site reads, planners of the site write."""

    queryset = BusinessCalendar.objects.select_related("site").prefetch_related("holidays")
    serializer_class = serializers.BusinessCalendarSerializer
    filterset_class = filtersets.BusinessCalendarFilterSet
    ordering_fields = {"site": "site", "id": "id"}

    def perform_create(self, serializer):
        serializer.instance = services.business_calendar_create(
            by=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("site", None)
        services.business_calendar_update(
            calendar=serializer.instance, by=self.request.user, **data
        )
