"""Planners' admin for alert rules, written through `alert_rule_save` (validated and audited).

Planners see the rules of their sites and the global rules (no site); they write rules of
their sites only. Global rules are the superusers' to change; planners see them read-only.
"""

from django.contrib import admin

from cmms.admin import NO_DELETE, SiteScopedAdminMixin, adopt_saved, changed_values
from pipeline.models import AlertRule
from pipeline.services import alert_rule_save


@admin.register(AlertRule)
class AlertRuleAdmin(SiteScopedAdminMixin, admin.ModelAdmin):
    """Alert rules; kept for the work orders they made (deactivate rather than delete)."""

    permissions = NO_DELETE
    list_display = (
        "name",
        "is_active",
        "site_or_global",
        "asset",
        "equipment_class",
        "condition_pattern",
        "min_severity",
        "job_plan",
        "requires_approval",
        "cancel_on_clear",
    )
    list_filter = (
        "is_active",
        ("site", admin.RelatedOnlyFieldListFilter),
        ("equipment_class", admin.RelatedOnlyFieldListFilter),
        "min_severity",
        ("job_plan", admin.RelatedOnlyFieldListFilter),
        "requires_approval",
        "cancel_on_clear",
    )
    list_select_related = ("site", "asset", "equipment_class", "job_plan")
    search_fields = ("name", "condition_pattern", "asset__tag", "job_plan__code")
    autocomplete_fields = ("asset",)
    readonly_fields = ("created_at",)
    fieldsets = (
        (None, {"fields": ("name", "is_active")}),
        (
            "Which alerts",
            {
                "fields": ("site", "asset", "equipment_class", "condition_pattern", "min_severity"),
                "description": "The most specific active rule wins: a deeper asset, then an "
                "equipment class, then a site, then the more literal pattern.",
            },
        ),
        ("Work orders", {"fields": ("job_plan", "requires_approval", "cancel_on_clear")}),
        (
            "Response time per severity",
            {
                "fields": (
                    "response_critical",
                    "response_major",
                    "response_minor",
                    "response_warning",
                )
            },
        ),
        ("History", {"fields": ("created_at",)}),
    )

    @admin.display(description="site", ordering="site__code")
    def site_or_global(self, obj):
        return obj.site or "every site"

    def has_change_permission(self, request, obj=None):
        """Global rules apply to every customer's plant: only superusers change them."""
        if obj is not None and obj.site_id is None and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            stored = AlertRule.objects.get(pk=obj.pk)
            saved = self.call_service(
                alert_rule_save,
                rule=stored,
                by=request.user,
                **changed_values(form, set(form.fields)),
            )
        else:
            saved = self.call_service(alert_rule_save, by=request.user, **form.cleaned_data)
        adopt_saved(obj, saved)
