import django_filters
from django.db.models import Q

from audit.choices import AuditAction
from audit.models import AuditEntry
from cmms.api.filters import FilterSet, MultipleChoiceFilter

# The audit trail sits below the asset register (every app records into it): it names the
# sites through its own relation.
SITES = AuditEntry._meta.get_field("site").related_model


class AuditEntryFilterSet(FilterSet):
    action = MultipleChoiceFilter(choices=AuditAction.choices)
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    site = django_filters.ModelChoiceFilter(queryset=SITES.objects.all(), method="filter_site")

    def filter_site(self, queryset, name, value):
        """Entries of the site: its own objects' and those of the shared objects it uses."""
        shared = AuditEntry.sites.through.objects.filter(site=value).values("auditentry")
        return queryset.filter(Q(site=value) | Q(pk__in=shared))

    class Meta:
        model = AuditEntry
        fields = ["action", "object_type", "object_id", "site", "actor"]
