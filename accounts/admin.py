from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count

from accounts.choices import Role
from accounts.models import Skill, User
from cmms.admin import SiteScopedAdminMixin, visible_users

SUPERUSER_ONLY = frozenset({"is_superuser", "groups", "user_permissions"})


@admin.register(Skill)
class SkillAdmin(SiteScopedAdminMixin, admin.ModelAdmin):
    """Trades shared by every site's people and job plans: superusers write."""

    planner_permissions = frozenset({"view"})
    list_display = ("code", "name", "holders")
    search_fields = ("code", "name")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(holder_count=Count("users"))

    @admin.display(description="people", ordering="holder_count")
    def holders(self, skill):
        return skill.holder_count


@admin.register(User)
class UserAdmin(SiteScopedAdminMixin, DjangoUserAdmin):
    """People: role, sites, skills and daily capacity. Planners see the people of their sites."""

    list_display = (
        "username",
        "full_name",
        "role",
        "site_codes",
        "skill_codes",
        "available_hours_per_day",
        "is_active",
        "is_staff",
    )
    list_filter = (
        "role",
        "is_active",
        "is_staff",
        ("sites", admin.RelatedOnlyFieldListFilter),
        ("skills", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("username", "first_name", "last_name", "email")
    filter_horizontal = ("sites", "skills", "groups", "user_permissions")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email")}),
        ("Work", {"fields": ("role", "sites", "skills", "available_hours_per_day")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "usable_password", "password1", "password2"),
            },
        ),
        ("Personal info", {"fields": ("first_name", "last_name", "email")}),
        ("Work", {"fields": ("role", "sites", "skills", "available_hours_per_day")}),
        ("Permissions", {"fields": ("is_active", "is_staff")}),
    )
    readonly_fields = ("last_login", "date_joined")

    def scope_queryset(self, queryset, request):
        if request.user.is_superuser:
            return queryset
        return queryset.filter(pk__in=visible_users(request.user).values("pk"))

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("sites", "skills")

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        return [
            (name, {**opts, "fields": [f for f in opts["fields"] if f not in SUPERUSER_ONLY]})
            for name, opts in fieldsets
        ]

    def get_search_results(self, request, queryset, search_term):
        """Autocomplete for a work order's assignee offers active technicians only."""
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if request.GET.get("field_name") in {"assignee", "technician"}:
            queryset = queryset.filter(role=Role.TECHNICIAN, is_active=True)
        return queryset, may_have_duplicates

    def save_related(self, request, form, formsets, change):
        # A planner edits only the sites they see; memberships of other sites stay as they were.
        hidden_sites = []
        if change and not request.user.is_superuser:
            hidden_sites = list(
                form.instance.sites.exclude(pk__in=request.user.sites.values("id")).values_list(
                    "pk", flat=True
                )
            )
        super().save_related(request, form, formsets, change)
        if hidden_sites:
            form.instance.sites.add(*hidden_sites)

    @admin.display(description="name", ordering="last_name")
    def full_name(self, user):
        return user.get_full_name()

    @admin.display(description="sites")
    def site_codes(self, user):
        return ", ".join(site.code for site in user.sites.all())

    @admin.display(description="skills")
    def skill_codes(self, user):
        return ", ".join(skill.code for skill in user.skills.all())
