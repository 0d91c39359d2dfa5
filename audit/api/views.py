from audit.api.serializers import AuditEntrySerializer
from audit.filtersets import AuditEntryFilterSet
from audit.models import AuditEntry
from cmms.api.permissions import IsPlanner
from cmms.api.viewsets import SiteScopedReadOnlyViewSet


class AuditEntryViewSet(SiteScopedReadOnlyViewSet):
    """Who changed gateways, secrets, alert rules and job plans (planners, their sites)."""

    permission_classes = [IsPlanner]
    queryset = AuditEntry.objects.prefetch_related("sites")
    serializer_class = AuditEntrySerializer
    filterset_class = AuditEntryFilterSet
