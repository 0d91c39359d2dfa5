import django_filters

from audit.choices import AuditAction
from audit.models import AuditEntry
from cmms.api.filters import FilterSet, MultipleChoiceFilter


class AuditEntryFilterSet(FilterSet):
    action = MultipleChoiceFilter(choices=AuditAction.choices)
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = AuditEntry
        fields = ["action", "object_type", "object_id", "site", "actor"]
