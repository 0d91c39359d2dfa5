"""Planners' admin for preventive maintenance: plans (written through `pm_plan_save`), the
90-day forecast page, occurrences and meter resets (read-only records), inspection routes
(points inline; each point's checks on its own page) and their runs with results (read-only)."""

from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from cmms.admin import (
    NO_DELETE,
    VIEW_ONLY,
    ReadOnlyInlineMixin,
    ScopedInlineMixin,
    SiteScopedAdminMixin,
    adopt_saved,
    changed_values,
    inline_edits,
)
from cmms.inputs import parse_id
from pm import selectors, services
from pm.models import (
    MeterReset,
    PMOccurrence,
    PMPlan,
    RoundResult,
    RoundRun,
    Route,
    RouteCheck,
    RoutePoint,
)

FORECAST_DAYS = 90


@admin.register(PMPlan)
class PMPlanAdmin(SiteScopedAdminMixin, admin.ModelAdmin):
    """PM plans; kept for their history (deactivate rather than delete)."""

    permissions = NO_DELETE
    list_display = ("name", "site", "scope", "asset", "equipment_class", "trigger", "is_active")
    list_filter = (("site", admin.RelatedOnlyFieldListFilter), "trigger", "scope", "is_active")
    list_select_related = ("site", "asset", "equipment_class")
    search_fields = ("name", "asset__tag", "job_plan__code")
    autocomplete_fields = ("asset",)
    readonly_fields = ("generate_from", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("site", "name", "is_active", "job_plan", "priority")}),
        ("Assets", {"fields": ("scope", "asset", "equipment_class")}),
        ("Work orders", {"fields": ("work_order_status", "skip_while_open")}),
        ("Calendar trigger", {"fields": services.CALENDAR_TRIGGER_FIELDS}),
        ("Meter trigger", {"fields": services.METER_TRIGGER_FIELDS}),
        ("History", {"fields": ("generate_from", "created_at", "updated_at")}),
    )
    change_list_template = "admin/pm/pmplan/change_list.html"

    def save_model(self, request, obj, form, change):
        if change:
            fresh = PMPlan.objects.get(pk=obj.pk)
            saved = self.call_service(
                services.pm_plan_save,
                plan=fresh,
                by=request.user,
                **changed_values(form, set(form.fields) - {"site"}),
            )
        else:
            saved = self.call_service(services.pm_plan_save, by=request.user, **form.cleaned_data)
        adopt_saved(obj, saved)

    def get_urls(self):
        forecast = self.admin_site.admin_view(self.forecast_view)
        return [path("forecast/", forecast, name="pm_pmplan_forecast"), *super().get_urls()]

    def forecast_view(self, request):
        """The next 90 days of PM work of the planner's sites, by week."""
        plans = self.get_queryset(request)
        site = request.GET.get("site", "")
        if site.isdigit():  # digits no id has ("²", twenty nines) match no plan
            plans = plans.filter(site_id=parse_id(site) or 0)
        items = selectors.pm_forecast(plans=plans, now=timezone.now(), days=FORECAST_DAYS)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"PM forecast: the next {FORECAST_DAYS} days",
            "items": items,
            "total_hours": sum(item.estimated_hours for item in items),
        }
        return TemplateResponse(request, "admin/pm/pmplan/forecast.html", context)


@admin.register(PMOccurrence)
class PMOccurrenceAdmin(SiteScopedAdminMixin, admin.ModelAdmin):
    """Every due date of every plan and asset: generated (with its work order) or skipped."""

    permissions = VIEW_ONLY
    list_display = ("plan", "asset", "due_at", "threshold", "status", "late", "work_order")
    list_filter = ("status", "late", ("due_at", admin.DateFieldListFilter))
    list_select_related = ("plan", "asset", "work_order")
    search_fields = ("plan__name", "asset__tag", "work_order__number")


@admin.register(MeterReset)
class MeterResetAdmin(SiteScopedAdminMixin, admin.ModelAdmin):
    permissions = VIEW_ONLY
    list_display = ("meter", "reset_at", "value_before", "value_after", "reason", "created_by")
    list_select_related = ("meter__asset", "created_by")


class RoutePointInline(ScopedInlineMixin, admin.TabularInline):
    model = RoutePoint
    extra = 0
    fields = ("position", "asset", "instruction")
    autocomplete_fields = ("asset",)
    show_change_link = True  # the point's page holds its checks


@admin.register(Route)
class RouteAdmin(SiteScopedAdminMixin, admin.ModelAdmin):
    """Inspection routes; kept for their runs' history (deactivate rather than delete)."""

    permissions = NO_DELETE
    list_display = ("code", "name", "site", "interval", "interval_unit", "assignee", "is_active")
    list_filter = (("site", admin.RelatedOnlyFieldListFilter), "is_active")
    list_select_related = ("site", "assignee")
    search_fields = ("code", "name")
    readonly_fields = ("generate_from", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("site", "code", "name", "description", "is_active")}),
        ("Who walks it", {"fields": ("assignee", "required_skill")}),
        (
            "Schedule",
            {
                "fields": (
                    "interval",
                    "interval_unit",
                    "starts_on",
                    "due_time",
                    "ends_on",
                    "lead_hours",
                    "grace_hours",
                )
            },
        ),
        ("History", {"fields": ("generate_from", "created_at", "updated_at")}),
    )
    inlines = [RoutePointInline]

    def save_model(self, request, obj, form, change):
        """Nothing yet: `save_related` hands the route and its points to `route_save` at once,
        so they are validated together and audited as one change."""

    def save_related(self, request, form, formsets, change):
        points = _saved_inline(formsets, RoutePoint)
        fields = changed_values(form, set(form.fields)) if change else dict(form.cleaned_data)
        if change and not fields and points is None:
            return  # saved unchanged: no write, no empty audit entry
        saved = self.call_service(
            services.route_save,
            route=Route.objects.get(pk=form.instance.pk) if change else None,
            points=points,
            by=request.user,
            **fields,
        )
        adopt_saved(form.instance, saved)


class RouteCheckInline(ScopedInlineMixin, admin.TabularInline):
    model = RouteCheck
    extra = 1
    fields = ("position", "kind", "label", "unit", "low", "high", "meter")


@admin.register(RoutePoint)
class RoutePointAdmin(SiteScopedAdminMixin, admin.ModelAdmin):
    """A stop of a route with its checks and readings (limits inclusive)."""

    list_display = ("route", "position", "asset")
    list_select_related = ("route", "asset")
    search_fields = ("route__code", "asset__tag")
    autocomplete_fields = ("asset",)
    inlines = [RouteCheckInline]

    def get_readonly_fields(self, request, obj=None):
        return ("route",) if obj else ()  # a point stays on its route (its runs' results)

    def save_model(self, request, obj, form, change):
        """Nothing yet: `save_related` hands the point and its checks to `route_point_save`."""

    def save_related(self, request, form, formsets, change):
        checks = _saved_inline(formsets, RouteCheck)
        fields = changed_values(form, set(form.fields)) if change else dict(form.cleaned_data)
        if change and not fields and checks is None:
            return
        saved = self.call_service(
            services.route_point_save,
            point=RoutePoint.objects.get(pk=form.instance.pk) if change else None,
            checks=checks,
            by=request.user,
            **fields,
        )
        adopt_saved(form.instance, saved)

    def delete_model(self, request, obj):
        services.route_point_delete(point=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for point in queryset.select_related("route"):
            services.route_point_delete(point=point, by=request.user)


def _saved_inline(formsets, model):
    """The edits of the inline of `model` (None: left alone). The formsets are saved without
    committing, only for the admin's history message: the service writes the rows."""
    for formset in formsets:
        formset.save(commit=False)
    return inline_edits(next((f for f in formsets if f.model is model), None))


class RoundResultInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = RoundResult
    fields = (
        "route_check",
        "value",
        "passed",
        "out_of_limits",
        "note",
        "work_order",
        "recorded_by",
        "recorded_at",
    )


@admin.register(RoundRun)
class RoundRunAdmin(SiteScopedAdminMixin, admin.ModelAdmin):
    """Every run of every route with its results (read-only: technicians record them)."""

    permissions = VIEW_ONLY
    list_display = ("route", "due_at", "status", "assignee", "completed_at", "completed_by")
    list_filter = ("status", ("due_at", admin.DateFieldListFilter))
    list_select_related = ("route", "assignee", "completed_by")
    search_fields = ("route__code", "route__name")
    inlines = [RoundResultInline]
