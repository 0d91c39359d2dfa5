import django_filters

from assets.models import Customer, Site
from cmms.api.filters import FilterSet
from contracts.models import BusinessCalendar, Contract


class ContractFilterSet(FilterSet):
    """`?customer=`, `?site=` (contracts covering it), `?is_active=`, `?in_force_on=<date>`
    (active and running that day)."""

    customer = django_filters.ModelChoiceFilter(queryset=Customer.objects.all())
    site = django_filters.ModelChoiceFilter(
        field_name="sites", queryset=Site.objects.all(), distinct=True
    )
    in_force_on = django_filters.DateFilter(method="filter_in_force_on", label="In force on")
    reference = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Contract
        fields = ["customer", "site", "is_active", "reference"]

    def filter_in_force_on(self, queryset, name, value):
        return queryset.in_force(value)


class BusinessCalendarFilterSet(FilterSet):
    site = django_filters.ModelChoiceFilter(queryset=Site.objects.all())

    class Meta:
        model = BusinessCalendar
        fields = ["site"]
