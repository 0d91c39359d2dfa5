import django_filters

from alerts.choices import AlertStatus
from alerts.models import Alert
from cmms.api.filters import IntegerFilter, SyncFilterSet
from pipeline.choices import Severity


class AlertFilterSet(SyncFilterSet):
    asset = IntegerFilter(field_name="asset_id")
    gateway = django_filters.UUIDFilter(field_name="gateway_id")
    status = django_filters.ChoiceFilter(choices=AlertStatus.choices)
    severity = django_filters.ChoiceFilter(choices=Severity.choices)
    condition = django_filters.CharFilter(field_name="condition")

    class Meta:
        model = Alert
        fields = [
            "asset",
            "gateway",
            "status",
            "severity",
            "condition",
            "site",
            "state",
            "work_order",
        ]
