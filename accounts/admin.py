from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count
from django.template.response import TemplateResponse

from accounts import services
from accounts.choices import Role
from accounts.models import ApiToken, Skill, User
from cmms.admin import SiteScopedAdminMixin, visible_users
from cmms.errors import NotPermitted
from cmms.http import never_store

SUPERUSER_ONLY = frozenset({"is_superuser", "groups", "user_permissions"})


@admin.register(Skill)
class SkillAdmin(SiteScopedAdminMixin, admin.ModelAdmin):
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


class ApiTokenIssueForm(forms.ModelForm):
    expires_in_days = forms.IntegerField(
        min_value=1,
        max_value=3650,
        required=False,
        help_text="Empty: the server's default (API_TOKEN_TTL_DAYS).",
    )

    class Meta:
        model = ApiToken
        fields = ["user", "name"]


@admin.register(ApiToken)
class ApiTokenAdmin(SiteScopedAdminMixin, admin.ModelAdmin):
    """API tokens, one per device: issue one (its key shown once), revoke one or several.

    Planners see the tokens of the people of their sites and revoke those of the users they
    manage (a technician's lost phone); superusers see everyone's. Only hashes are stored.
    """

    permissions = frozenset({"view", "add", "delete"})
    form = ApiTokenIssueForm
    list_display = ("user", "name", "created", "expiry")
    list_select_related = ("user",)
    search_fields = ("user__username", "name")
    readonly_fields = ("user", "name", "created", "expiry")

    def scope_queryset(self, queryset, request):
        if request.user.is_superuser:
            return queryset
        return queryset.filter(user__in=visible_users(request.user))

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or services.may_manage_tokens_of(request.user, obj.user))

    def save_model(self, request, obj, form, change):
        days = form.cleaned_data.get("expires_in_days")
        token, key = self.call_service(
            services.api_token_issue,
            user=obj.user,
            name=obj.name,
            by=request.user,
            **({"expires_in": timedelta(days=days)} if days else {}),
        )
        obj.pk = token.pk
        obj._state = token._state
        request._new_api_token = (token, key)

    def response_add(self, request, obj, post_url_continue=None):
        token, key = request._new_api_token
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "API token issued",
            "token": token,
            "key": key,
        }
        return never_store(
            TemplateResponse(request, "admin/accounts/apitoken/issued.html", context)
        )

    def delete_model(self, request, obj):
        services.api_token_revoke(token=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        refused = 0
        for token in queryset.select_related("user"):
            try:
                services.api_token_revoke(token=token, by=request.user)
            except NotPermitted:
                refused += 1
        if refused:
            self.message_user(
                request,
                f"{refused} token(s) of users you do not manage were kept.",
                messages.WARNING,
            )
