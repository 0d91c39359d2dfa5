"""Planners' admin for the Sparkplug host: metric mappings (meters and threshold rules), and,
read-only, each edge node's session and the sequence gaps it showed."""

from django.contrib import admin

from cmms.admin import NO_DELETE, VIEW_ONLY, SiteScopedAdminMixin, adopt_saved, changed_values
from sparkplug.models import EdgeNodeSession, MetricMapping, SequenceGap
from sparkplug.services import metric_mapping_save


@admin.register(MetricMapping)
class MetricMappingAdmin(SiteScopedAdminMixin, admin.ModelAdmin):
    """A metric of a gateway or of one of its sensors, fed to a meter or a threshold rule;
    deactivate rather than delete."""

    permissions = NO_DELETE
    list_display = (
        "metric",
        "gateway",
        "sensor",
        "target",
        "meter",
        "condition",
        "threshold",
        "clear_threshold",
        "raised",
        "last_value",
        "is_active",
    )
    list_filter = ("is_active", "target", "raised")
    list_select_related = ("gateway", "sensor", "meter__asset")
    search_fields = ("metric", "condition", "gateway__name", "sensor__code")
    readonly_fields = ("raised", "raised_at", "cleared_at", "last_value")
    fieldsets = (
        (
            "Which metric",
            {
                "fields": ("gateway", "sensor", "metric", "is_active"),
                "description": "A metric of the edge node itself (no sensor) or of one of its "
                "devices (the sensor whose code is the Sparkplug device id), by the name its "
                "birth declares.",
            },
        ),
        ("Feeds", {"fields": ("target",)}),
        ("Meter readings", {"fields": ("meter",)}),
        (
            "Threshold alert",
            {
                "fields": (
                    "asset",
                    "condition",
                    "severity",
                    "direction",
                    "threshold",
                    "clear_threshold",
                ),
                "description": "Raised once when the value reaches the threshold; not again "
                "until it has gone back past the clear threshold (hysteresis).",
            },
        ),
        ("State", {"fields": ("raised", "raised_at", "cleared_at", "last_value")}),
    )

    def save_model(self, request, obj, form, change):
        allowed = set(form.fields)
        if change:
            stored = MetricMapping.objects.get(pk=obj.pk)
            values = changed_values(form, allowed)
            saved = self.call_service(
                metric_mapping_save, mapping=stored, by=request.user, **values
            )
        else:
            values = {k: v for k, v in form.cleaned_data.items() if k in allowed}
            saved = self.call_service(metric_mapping_save, by=request.user, **values)
        adopt_saved(obj, saved)


@admin.register(EdgeNodeSession)
class EdgeNodeSessionAdmin(SiteScopedAdminMixin, admin.ModelAdmin):
    """Each gateway's Sparkplug session as the host last saw it."""

    permissions = VIEW_ONLY
    list_display = ("gateway", "online", "bd_seq", "seq", "born_at", "died_at")
    list_filter = ("online",)
    list_select_related = ("gateway",)
    search_fields = ("gateway__name", "gateway__sparkplug_edge_node_id")
    exclude = ("aliases", "datatypes")


@admin.register(SequenceGap)
class SequenceGapAdmin(SiteScopedAdminMixin, admin.ModelAdmin):
    """Messages of an edge node that did not carry the expected sequence number: data may be
    missing between `expected` and `got`."""

    permissions = VIEW_ONLY
    list_display = ("at", "gateway", "expected", "got", "missed", "topic")
    list_select_related = ("gateway",)
    search_fields = ("gateway__name", "topic")
    date_hierarchy = "at"
