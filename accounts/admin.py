from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count, Prefetch, Q
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from accounts import policy, services
from accounts.models import ApiToken, Skill, User
from assets.models import Site
from cmms.admin import NO_DELETE, VIEW_ONLY, SiteScopedAdminMixin, adopt_saved, changed_values
from cmms.errors import NotPermitted
from cmms.http import never_store
from cmms.scoping import visible_users

SUPERUSER_ONLY = frozenset({"is_superuser", "groups", "user_permissions"})


@admin.register(Skill)
class SkillAdmin(SiteScopedAdminMixin, admin.ModelAdmin):
    """Trades shared by every site's people and job plans: superusers write."""

    planner_permissions = VIEW_ONLY
    list_display = ("code", "name", "holders")
    search_fields = ("code", "name")

    def get_queryset(self, request):
        # Counted among the people the planner may see, not across every customer's staff.
        visible = visible_users(request.user).values("pk")
        holders = Count("users", filter=Q(users__in=visible), distinct=True)
        return super().get_queryset(request).annotate(holder_count=holders)

    @admin.display(description="people", ordering="holder_count")
    def holders(self, skill):
        return skill.holder_count


@admin.register(User)
class UserAdmin(SiteScopedAdminMixin, DjangoUserAdmin):
    """People: role, sites, skills and daily capacity. Planners see the people of their sites,
    with only their own sites shown, and change only those whose sites are all theirs
    (`accounts.policy.user_management_refusal`); the others are read-only to them.

    Every write (the change and add forms, the password form) goes through the account
    services, so the same rules and audit trail apply as in the API. Accounts are deactivated
    rather than deleted by planners.
    """

    planner_permissions = NO_DELETE
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
        ("Permissions", {"fields": ("is_active",)}),
    )
    # Admin access follows the role (planners), set by the services.
    readonly_fields = ("last_login", "date_joined", "is_staff")

    def scope_queryset(self, queryset, request):
        return queryset.filter(pk__in=visible_users(request.user).values("pk"))

    def get_queryset(self, request):
        # Only the sites the viewer has are loaded: lists, read-only forms and the sites field
        # never show a shared person's other sites.
        sites = Prefetch("sites", queryset=Site.objects.for_user(request.user))
        return super().get_queryset(request).prefetch_related(sites, "skills")

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        return [
            (name, {**opts, "fields": [f for f in opts["fields"] if f not in SUPERUSER_ONLY]})
            for name, opts in fieldsets
        ]

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or policy.may_manage_user(by=request.user, user=obj)

    def has_delete_permission(self, request, obj=None):
        if not super().has_delete_permission(request, obj):
            return False
        return obj is None or policy.may_manage_user(by=request.user, user=obj)

    def get_search_results(self, request, queryset, search_term):
        """Autocomplete for a work order's assignee offers active technicians only."""
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if request.GET.get("field_name") in {"assignee", "technician"}:
            queryset = policy.assignable(queryset)
        return queryset, may_have_duplicates

    def save_model(self, request, obj, form, change):
        """Nothing yet: `save_related` hands the account with its sites and skills to the
        service at once."""

    def save_related(self, request, form, formsets, change):
        data = form.cleaned_data
        lists = {}
        if not change or "sites" in form.changed_data:
            lists["sites"] = list(data.get("sites") or [])
        if not change or "skills" in form.changed_data:
            lists["skills"] = [skill.code for skill in data.get("skills") or []]
        for name in ("groups", "user_permissions"):
            if change and name in form.changed_data:
                lists[name] = list(data[name])
        fields = changed_values(form, services.UPDATABLE_FIELDS | services.SUPERUSER_FIELDS)
        if change:
            saved = self.call_service(
                services.user_update, user=form.instance, by=request.user, **lists, **fields
            )
        else:
            fields.pop("username", None)
            password = data.get("password1") if data.get("set_usable_password", True) else None
            saved = self.call_service(
                services.user_create,
                username=data["username"],
                password=password,
                by=request.user,
                **lists,
                **fields,
            )
        adopt_saved(form.instance, saved)

    def user_change_password(self, request, id, form_url=""):
        """The password form: shown and checked by Django, written by `user_set_password`
        (refused, like the change form, for accounts the planner may not manage)."""
        if request.method == "POST":
            user = self.get_object(request, unquote(id))
            if user is not None and self.has_change_permission(request, user):
                form = self.change_password_form(user, request.POST)
                if form.is_valid() and (
                    form.cleaned_data["set_usable_password"] or "unset-password" in request.POST
                ):
                    return self._save_password(request, user, form)
        return super().user_change_password(request, id, form_url)

    def _save_password(self, request, user, form):
        usable = form.cleaned_data["set_usable_password"]
        password = form.cleaned_data["password1"] if usable else None
        user = services.user_set_password(user=user, password=password, by=request.user)
        self.log_change(request, user, self.construct_change_message(request, form, None))
        if usable:
            messages.success(request, "Password changed successfully.")
        else:
            messages.success(request, "Password-based authentication was disabled.")
        update_session_auth_hash(request, user)
        opts = user._meta
        url = f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_change"
        return HttpResponseRedirect(reverse(url, args=(user.pk,)))

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
        help_text="Empty: the server's default and longest lifetime (API_TOKEN_TTL_DAYS).",
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

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # A key is the person's credential: planners issue tokens for themselves only.
        if db_field.name == "user" and not request.user.is_superuser:
            kwargs["queryset"] = User.objects.filter(pk=request.user.pk)
            kwargs["initial"] = request.user.pk
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

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
