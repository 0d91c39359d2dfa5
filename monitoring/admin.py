"""Planners' admin for condition monitoring: the measurements under watch, with their limits
(written through `monitored_measurement_save`), and the proposals made from their trends
(read-only records: the work order is where a proposal is handled)."""

from django.contrib import admin

from cmms.admin import NO_DELETE, VIEW_ONLY, SiteScopedAdminMixin, adopt_saved, changed_values
from monitoring import services
from monitoring.models import MonitoredMeasurement, Prediction


@admin.register(MonitoredMeasurement)
class MonitoredMeasurementAdmin(SiteScopedAdminMixin, admin.ModelAdmin):
    """An asset's measurement under watch: limits, window and horizon, the latest assessment."""

    permissions = NO_DELETE
    list_display = (
        "asset",
        "name",
        "alarm_limit",
        "last_value",
        "last_at",
        "trend_status",
        "projected_at",
        "enabled",
    )
    list_filter = (("site", admin.RelatedOnlyFieldListFilter), "trend_status", "enabled")
    list_select_related = ("asset",)
    search_fields = ("name", "asset__tag", "asset__name")
    autocomplete_fields = ("asset",)
    readonly_fields = ("site", *MonitoredMeasurement.ASSESSMENT_FIELDS)
    fieldsets = (
        (None, {"fields": ("asset", "site", "name", "unit", "enabled")}),
        ("Limits", {"fields": ("direction", "alarm_limit", "warning_limit", "healthy_level")}),
        ("Trend", {"fields": ("window_days", "horizon_days")}),
        ("Latest assessment", {"fields": MonitoredMeasurement.ASSESSMENT_FIELDS}),
    )

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return ("asset", "name", *fields) if obj is not None else fields

    def save_model(self, request, obj, form, change):
        fields = changed_values(form, set(form.fields) & set(services.MONITORED_FIELDS))
        if change:
            fresh = MonitoredMeasurement.objects.get(pk=obj.pk)
            saved = self.call_service(
                services.monitored_measurement_save, monitored=fresh, by=request.user, **fields
            )
        else:
            saved = self.call_service(
                services.monitored_measurement_save,
                asset=form.cleaned_data["asset"],
                by=request.user,
                **{k: form.cleaned_data[k] for k in services.MONITORED_FIELDS if k in form.fields},
            )
        adopt_saved(obj, saved)


@admin.register(Prediction)
class PredictionAdmin(SiteScopedAdminMixin, admin.ModelAdmin):
    """Work orders proposed from projected crossings, with their evidence (read-only)."""

    permissions = VIEW_ONLY
    list_display = ("monitored", "work_order", "projected_at", "withdrawn_at", "updated_at")
    list_filter = (("site", admin.RelatedOnlyFieldListFilter),)
    list_select_related = ("monitored", "work_order")
    search_fields = ("monitored__name", "monitored__asset__tag", "work_order__number")
