"""Admin for planners: gateways (secret shown once, rotate, retire, disable; health, the asset
it is recorded as), their sensors, connectivity events (read-only) and firmware targets."""

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from assets.models import Asset, Site
from cmms.admin import (
    NO_DELETE,
    VIEW_ONLY,
    EstimatedCountPaginator,
    NamedInputsMixin,
    ReadOnlyInlineMixin,
    ScopedListFiltersMixin,
    SiteScopedAdminMixin,
    adopt_saved,
    autocomplete_widget,
    changed_values,
)
from cmms.http import never_store
from gateways import services
from gateways.models import ConnectivityEvent, FirmwareTarget, Gateway, GatewaySecret, Sensor

RECENT_EVENTS = 20


class PlannerSiteScopedAdmin(NamedInputsMixin, ScopedListFiltersMixin, admin.ModelAdmin):
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
        if db_field.name in self.get_autocomplete_fields(request):
            # Searched, scoped, and a posted value that is no id is shown again without a 500.
            kwargs.setdefault("widget", autocomplete_widget(db_field, self.admin_site))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class SensorInline(ReadOnlyInlineMixin, admin.TabularInline):
    """The gateway's sensors at a glance; each is changed on its own page (through services)."""

    model = Sensor
    fields = ["code", "name", "measures", "asset", "state", "last_sample_at", "is_active"]
    show_change_link = True
    verbose_name_plural = "sensors (change one on its own page)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("asset")


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
    list_display = [
        "name",
        "site",
        "status",
        "last_seen_at",
        "firmware",
        "battery",
        "signal",
        "asset",
        "is_active",
        "live_secrets",
    ]
    list_filter = ["is_active", "site", "connectivity"]
    search_fields = ["name", "id"]
    list_select_related = ["site", "asset"]
    autocomplete_fields = ["asset"]
    readonly_fields = ["id", "created_at", "last_seen_at"]
    health = [
        "status",
        "connectivity_since",
        "last_heartbeat_at",
        "firmware",
        "uptime_seconds",
        "battery",
        "signal",
        "recent_events",
    ]
    edit_extra = ["created_at", "last_seen_at"]
    equipment = [
        "asset",
        "model",
        "heartbeat_interval_seconds",
        "heartbeat_grace_seconds",
        "sparkplug_group_id",
        "sparkplug_edge_node_id",
    ]
    inlines = [SensorInline, GatewaySecretInline]
    actions = ["rotate_secret", "retire_old_secrets", "disable", "enable"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .with_connectivity(timezone.now())
            .annotate(live=Count("secrets", filter=Q(secrets__retired_at=None), distinct=True))
        )

    def get_inlines(self, request, obj):
        return [] if obj is None else self.inlines

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["site", "name", "rate_limit_per_minute"]
        return [
            "id",
            "site",
            "name",
            "is_active",
            "rate_limit_per_minute",
            *self.equipment,
            *self.health,
            *self.edit_extra,
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        return [*self.readonly_fields, "site", *self.health]

    @admin.display(description="live secrets", ordering="live")
    def live_secrets(self, obj):
        return obj.live

    @admin.display(description="status now", ordering="status")
    def status(self, obj):
        """Computed when the page is shown (gateways.health), said in words."""
        return getattr(obj, "status", obj.connectivity).replace("_", " ")

    @admin.display(description="battery", ordering="battery_percent")
    def battery(self, obj):
        return "—" if obj.battery_percent is None else f"{obj.battery_percent} %"

    @admin.display(description="signal", ordering="signal_dbm")
    def signal(self, obj):
        return "—" if obj.signal_dbm is None else f"{obj.signal_dbm} dBm"

    @admin.display(description=f"latest {RECENT_EVENTS} connectivity events")
    def recent_events(self, obj):
        events = (
            ConnectivityEvent.objects.filter(gateway=obj)
            .select_related("sensor")
            .order_by("-at", "-id")[:RECENT_EVENTS]
        )
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{} → {}</td></tr>",
            (
                (
                    timezone.localtime(e.at).strftime("%Y-%m-%d %H:%M"),
                    e.sensor or "gateway",
                    e.from_state,
                    e.to_state,
                )
                for e in events
            ),
        )
        if not rows:
            return "No connectivity event yet."
        return format_html(
            "<table><thead><tr><th>At</th><th>Device</th><th>Change</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            rows,
        )

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


@admin.register(Sensor)
class SensorAdmin(SiteScopedAdminMixin, admin.ModelAdmin):
    """Sensors behind the planner's gateways: what they measure and which asset they watch.
    Written through `sensor_create`/`sensor_update` (audited); deactivated, never deleted."""

    permissions = NO_DELETE
    list_display = [
        "code",
        "name",
        "gateway",
        "asset",
        "measures",
        "state",
        "last_sample_at",
        "battery_percent",
        "signal_dbm",
        "is_active",
    ]
    list_filter = ["state", "is_active", "gateway__site"]
    list_select_related = ["gateway", "asset"]
    search_fields = ["code", "name", "gateway__name"]
    autocomplete_fields = ["gateway", "asset"]
    fields = [
        "gateway",
        "code",
        "name",
        "measures",
        "unit",
        "asset",
        "is_active",
        "stale_after_seconds",
        "state",
        "state_since",
        "last_sample_at",
        "last_reported_at",
        "battery_percent",
        "signal_dbm",
    ]
    written = ["code", "name", "measures", "unit", "asset", "is_active", "stale_after_seconds"]

    def get_readonly_fields(self, request, obj=None):
        reported = ["state", "state_since", "last_sample_at", "last_reported_at"]
        reported += ["battery_percent", "signal_dbm"]
        return reported if obj is None else ["gateway", *reported]

    def save_model(self, request, obj, form, change):
        if change:
            fresh = Sensor.objects.get(pk=obj.pk)
            saved = self.call_service(
                services.sensor_update,
                sensor=fresh,
                by=request.user,
                **changed_values(form, set(self.written)),
            )
        else:
            values = {name: form.cleaned_data[name] for name in ["gateway", *self.written]}
            saved = self.call_service(services.sensor_create, by=request.user, **values)
        adopt_saved(obj, saved)


@admin.register(ConnectivityEvent)
class ConnectivityEventAdmin(SiteScopedAdminMixin, admin.ModelAdmin):
    """Every transition the fleet check recorded, newest first; written by the check only."""

    permissions = VIEW_ONLY
    list_display = ["at", "gateway", "sensor", "from_state", "to_state", "silent_since"]
    list_filter = ["to_state"]
    list_select_related = ["gateway", "sensor"]
    search_fields = ["gateway__name", "sensor__code"]
    ordering = ["-at", "-id"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]


@admin.register(FirmwareTarget)
class FirmwareTargetAdmin(SiteScopedAdminMixin, admin.ModelAdmin):
    """The firmware every gateway of a hardware model should run. Global: one target reaches
    every customer's gateways of that model, so superusers set it and planners read it."""

    permissions = NO_DELETE
    planner_permissions = VIEW_ONLY
    list_display = ["model", "version", "updated_at"]
    search_fields = ["model", "version"]
