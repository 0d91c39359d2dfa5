from alerts.api import serializers
from alerts.filtersets import AlertFilterSet
from alerts.models import Alert
from cmms.api.viewsets import SiteScopedReadOnlyViewSet


class AlertViewSet(SiteScopedReadOnlyViewSet):
    """Condition alerts of the user's sites, newest first (read-only: gateways write them)."""

    queryset = Alert.objects.all()
    serializer_class = serializers.AlertSerializer
    filterset_class = AlertFilterSet
