"""Admin for planners: alert triage (map unmatched alerts to an asset)."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse

from alerts import services
from alerts.choices import AlertStatus
from alerts.models import Alert
from assets.models import Asset
from cmms.admin import ReadOnlyInlineMixin, autocomplete_widget
from gateways.admin import PlannerSiteScopedAdmin
from workorders.admin import StatusChangeInline, WorkOrderAdmin


class MapToAssetForm(forms.Form):
    """The asset is found by search (the asset admin's autocomplete, scoped to the planner's
    sites) and must be one of `assets` (the alerts' site)."""

    asset = forms.ModelChoiceField(queryset=Asset.objects.none())

    def __init__(self, *args, assets, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["asset"]
        field.widget = autocomplete_widget(Alert._meta.get_field("asset"), admin_site)
        field.widget.is_required = True
        field.queryset = assets  # also the widget's choices: the chosen asset's label


@admin.register(Alert)
class AlertAdmin(PlannerSiteScopedAdmin):
    list_display = [
        "alert_id",
        "gateway",
        "asset_tag",
        "asset",
        "condition",
        "severity",
        "state",
        "status",
        "observed_at",
        "received_at",
        "work_order",
    ]
    list_filter = [
        "status",
        "severity",
        "state",
        "site",
        "gateway",
        "condition",
        ("received_at", admin.DateFieldListFilter),
    ]
    search_fields = ["alert_id", "asset_tag", "condition"]
    list_select_related = ["gateway", "asset", "work_order"]
    actions = ["map_to_asset"]

    def has_add_permission(self, request):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    @admin.action(description="Map unmatched alerts to an asset and reprocess")
    def map_to_asset(self, request, queryset):
        unmatched = queryset.filter(status=AlertStatus.UNMATCHED)
        site_ids = set(unmatched.values_list("site_id", flat=True))
        if len(site_ids) != 1:
            self.message_user(
                request, "Select unmatched alerts of exactly one site.", messages.ERROR
            )
            return None
        assets = Asset.objects.for_user(request.user).filter(site_id=site_ids.pop())
        form = MapToAssetForm(
            request.POST if "apply" in request.POST else None,
            assets=assets,
            admin_site=self.admin_site,
        )
        if form.is_valid():
            try:
                count = services.alerts_map_to_asset(
                    alerts=unmatched, asset=form.cleaned_data["asset"], by=request.user
                )
            except ValidationError as exc:
                self.message_user(request, "; ".join(exc.messages), messages.ERROR)
                return None
            self.message_user(
                request, f"{count} alert(s) mapped and sent for processing.", messages.SUCCESS
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Map unmatched alerts to an asset",
            "form": form,
            "alerts": unmatched,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/alerts/alert/map_to_asset.html", context)


# ---------------------------------------------------------------- on the work order page


class AlertInline(ReadOnlyInlineMixin, admin.TabularInline):
    """The condition alerts behind the work order (correlated alerts attach here)."""

    model = Alert
    fields = ("received_at", "alert_id", "condition", "severity", "state", "value", "unit")
    verbose_name_plural = "alerts behind this work order"
    ordering = ("-received_at",)

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-received_at")


def _show_alerts_on_work_orders() -> None:
    """Put the alerts inline on the work order page, before its status history: work orders
    sit below alerts and do not know them, so the alerts app adds what it knows."""
    inlines = list(WorkOrderAdmin.inlines)
    inlines.insert(inlines.index(StatusChangeInline), AlertInline)
    WorkOrderAdmin.inlines = tuple(inlines)


_show_alerts_on_work_orders()
