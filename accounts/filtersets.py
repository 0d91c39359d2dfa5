import django_filters

from accounts.choices import Role
from accounts.models import User
from cmms.api.filters import FilterSet, IntegerFilter


class UserFilterSet(FilterSet):
    role = django_filters.ChoiceFilter(choices=Role.choices)
    site = IntegerFilter(field_name="sites", label="Site id")
    skill = django_filters.CharFilter(field_name="skills__code", label="Skill code")
    q = django_filters.CharFilter(method="filter_q", label="Username, name or e-mail contains")

    class Meta:
        model = User
        fields = ["username", "is_active"]

    def filter_q(self, queryset, name, value):
        from django.db.models import Q

        return queryset.filter(
            Q(username__icontains=value)
            | Q(first_name__icontains=value)
            | Q(last_name__icontains=value)
            | Q(email__icontains=value)
        )
