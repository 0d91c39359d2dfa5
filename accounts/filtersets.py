import django_filters

from accounts.choices import Role
from accounts.models import ApiToken, User


class UserFilterSet(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=Role.choices)
    site = django_filters.NumberFilter(field_name="sites", label="Site id")
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


class ApiTokenFilterSet(django_filters.FilterSet):
    # A plain number, not a choice among all users: a foreign user's id lists nothing, exactly
    # like an id that does not exist.
    user = django_filters.NumberFilter(field_name="user", label="User id")

    class Meta:
        model = ApiToken
        fields = ["user"]
