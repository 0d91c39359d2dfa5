import django_filters
from django.db.models import Q

from accounts.models import ApiToken, User
from assets.models import Site
from cmms.api.filters import FilterSet, IntegerFilter, SyncFilterSet
from cmms.roles import Role


class UserFilterSet(SyncFilterSet):
    """`?site=<id>` looks among the viewer's sites only: another site's id finds nobody, like
    an id that does not exist (as every other `site` filter of the API), rather than telling
    which of the viewer's people also work there.
    """

    role = django_filters.ChoiceFilter(choices=Role.choices)
    site = IntegerFilter(method="filter_site", label="Site id")
    skill = django_filters.CharFilter(field_name="skills__code", label="Skill code")
    q = django_filters.CharFilter(method="filter_q", label="Username, name or e-mail contains")

    class Meta:
        model = User
        fields = ["username", "is_active"]

    def filter_site(self, queryset, name, value):
        sites = Site.objects.for_user(getattr(self.request, "user", None))
        return queryset.filter(sites__in=sites.filter(pk=value))

    def filter_q(self, queryset, name, value):
        return queryset.filter(
            Q(username__icontains=value)
            | Q(first_name__icontains=value)
            | Q(last_name__icontains=value)
            | Q(email__icontains=value)
        )


class ApiTokenFilterSet(FilterSet):
    # A plain number, not a choice among all users: a foreign user's id lists nothing, exactly
    # like an id that does not exist.
    user = IntegerFilter(field_name="user", label="User id")

    class Meta:
        model = ApiToken
        fields = ["user"]
