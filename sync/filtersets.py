import django_filters

from cmms.api.filters import FilterSet, MomentFilter
from sync.models import Tombstone


class TombstoneFilterSet(FilterSet):
    resource = django_filters.CharFilter(help_text="The API resource: parts, pm-plans, ...")
    deleted_at__gte = MomentFilter(field_name="deleted_at", lookup_expr="gte")
    deleted_at__lt = MomentFilter(field_name="deleted_at", lookup_expr="lt")

    class Meta:
        model = Tombstone
        fields = ["resource"]
