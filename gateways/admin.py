"""Admin for planners: gateways (secret shown once, rotate, retire, disable)."""

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.template.response import TemplateResponse

from assets.models import Asset, Site
from cmms.admin import EstimatedCountPaginator, ScopedListFiltersMixin
from cmms.http import never_store
from gateways import services
from gateways.models import Gateway, GatewaySecret


class PlannerSiteScopedAdmin(ScopedListFiltersMixin, admin.ModelAdmin):
    """Planners see and manage only their sites' rows (superusers: everything), and filter by
    their sites' sites and gateways only. The alerts admin builds on it too."""

    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def get_queryset(self, request):
        return super().get_queryset(request).for_user(request.user)

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff and request.user.is_planner

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model in (Site, Asset):
            kwargs["queryset"] = db_field.related_model.objects.for_user(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class GatewaySecretInline(admin.TabularInline):
    model = GatewaySecret
    fields = ["fingerprint", "created_at", "retired_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff and request.user.is_planner

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Gateway)
class GatewayAdmin(PlannerSiteScopedAdmin):
    list_display = ["name", "site", "is_active", "live_secrets", "last_seen_at", "created_at"]
    list_filter = ["is_active", "site"]
    search_fields = ["name", "id"]
    list_select_related = ["site"]
    readonly_fields = ["id", "created_at", "last_seen_at"]
    edit_extra = ["created_at", "last_seen_at"]
    inlines = [GatewaySecretInline]
    actions = ["rotate_secret", "retire_old_secrets", "disable", "enable"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(live=Count("secrets", filter=Q(secrets__retired_at=None)))
        )

    def get_inlines(self, request, obj):
        return [] if obj is None else self.inlines

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["site", "name", "rate_limit_per_minute"]
        return ["id", "site", "name", "is_active", "rate_limit_per_minute", *self.edit_extra]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is None else [*self.readonly_fields, "site"]

    @admin.display(description="live secrets", ordering="live")
    def live_secrets(self, obj):
        return obj.live

    def save_model(self, request, obj, form, change):
        if change:
            # The form has already set the new values on `obj`; the service compares against
            # the stored row so the audit entry records what actually changed.
            fields = {name: form.cleaned_data[name] for name in form.changed_data}
            stored = Gateway.objects.get(pk=obj.pk)
            services.gateway_update(gateway=stored, by=request.user, **fields)
            return
        gateway, secret = services.gateway_create(
            site=obj.site,
            name=obj.name,
            rate_limit_per_minute=obj.rate_limit_per_minute,
            by=request.user,
        )
        obj.pk = gateway.pk
        obj._state = gateway._state
        request._new_gateway_secret = secret

    def response_add(self, request, obj, post_url_continue=None):
        secret = getattr(request, "_new_gateway_secret", None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        return self._show_secrets(request, [(obj, secret)], created=True)

    def _show_secrets(self, request, pairs, *, created=False):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Gateway secret" if created else "New gateway secrets",
            "pairs": pairs,
            "created": created,
        }
        template = "admin/gateways/gateway/secrets.html"
        return never_store(TemplateResponse(request, template, context))

    @admin.action(description="Rotate secret (the old one keeps working until retired)")
    def rotate_secret(self, request, queryset):
        pairs = [
            (gw, services.gateway_rotate_secret(gateway=gw, by=request.user)) for gw in queryset
        ]
        return self._show_secrets(request, pairs)

    @admin.action(description="Retire old secrets (keep only the newest)")
    def retire_old_secrets(self, request, queryset):
        retired = sum(
            services.gateway_retire_secrets(gateway=gw, by=request.user) for gw in queryset
        )
        self.message_user(request, f"Retired {retired} secret(s).", messages.SUCCESS)

    @admin.action(description="Disable selected gateways")
    def disable(self, request, queryset):
        for gateway in queryset:
            services.gateway_set_active(gateway=gateway, is_active=False, by=request.user)
        self.message_user(request, "Gateways disabled; their requests now answer 401.")

    @admin.action(description="Enable selected gateways")
    def enable(self, request, queryset):
        for gateway in queryset:
            services.gateway_set_active(gateway=gateway, is_active=True, by=request.user)
        self.message_user(request, "Gateways enabled.")
