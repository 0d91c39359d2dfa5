"""The planners' admin for contracts, business calendars, labour cost rates and SLA warnings.

A contract and its inline targets and billing rates are written together by the contract
services once the form and both inlines are valid (as the API writes them), so the overlap and
customer rules hold and the change is audited. Sites are offered from the planner's sites,
assets by search among them; a planner changes only contracts all of whose sites they plan.
"""

from django import forms
from django.contrib import admin

from cmms.admin import (
    NO_DELETE,
    VIEW_ONLY,
    ScopedInlineMixin,
    SiteScopedAdminMixin,
    adopt_saved,
    changed_values,
)
from cmms.scoping import visible_users
from cmms.work import HoldReason
from contracts import models, services
from contracts.choices import WEEKDAYS
from contracts.models import BillingRate, Holiday, SlaTarget


def _kept_rows(formset) -> list[dict] | None:
    """The inline's rows that stay (without the formset's own keys), or None when the planner
    left the inline alone."""
    if formset is None or not formset.has_changed():
        return None
    deleted = formset.deleted_forms
    own = {"id", "DELETE", formset.fk.name}
    return [
        {name: value for name, value in form.cleaned_data.items() if name not in own}
        for form in formset.forms
        if form.cleaned_data and form not in deleted
    ]


class SlaTargetInline(ScopedInlineMixin, admin.TabularInline):
    model = SlaTarget
    extra = 0
    fields = ("priority", "response_hours", "resolution_hours", "clock")


class BillingRateInline(ScopedInlineMixin, admin.TabularInline):
    model = BillingRate
    extra = 0
    fields = ("skill", "hourly_rate")


@admin.register(models.Contract)
class ContractAdmin(SiteScopedAdminMixin, admin.ModelAdmin):
    """Contracts covering the planner's sites; those covering another site too are read-only
    to them. Contracts end or are deactivated, never deleted (work orders refer to them)."""

    permissions = NO_DELETE
    list_display = (
        "reference",
        "name",
        "customer",
        "starts_on",
        "ends_on",
        "is_active",
        "not_to_exceed",
    )
    list_filter = ("is_active", ("customer", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("customer",)
    search_fields = ("reference", "name")
    # A customer's plants are few: a plain labelled multiple select. Assets are many: their ids
    # with the admin's lookup (scoped like the asset list), a labelled text input.
    raw_id_fields = ("assets",)
    inlines = (SlaTargetInline, BillingRateInline)
    fieldsets = (
        (None, {"fields": ("customer", "reference", "name", "starts_on", "ends_on", "is_active")}),
        ("Coverage", {"fields": ("sites", "assets")}),
        (
            "SLA clock",
            {"fields": ("at_risk_share", "pausing_hold_reasons", "client_approval_pauses_clock")},
        ),
        (
            "Billing terms",
            {
                "fields": (
                    "labour_rate",
                    "overtime_multiplier",
                    "parts_markup_percent",
                    "services_markup_percent",
                    "monthly_fee",
                    "fee_covers_preventive",
                    "not_to_exceed",
                )
            },
        ),
        ("Sign-off", {"fields": ("requires_client_signature",)}),
    )

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or services.may_write_contract(request.user, obj))

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "pausing_hold_reasons":
            return _HoldReasonsField(required=False, label=db_field.verbose_name.capitalize())
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        """Nothing yet: `save_related` hands the contract and its inlines to the service."""

    def save_related(self, request, form, formsets, change):
        inlines = {formset.model: formset for formset in formsets}
        for formset in formsets:
            formset.save(commit=False)  # only for the admin's history message
        targets = _kept_rows(inlines.get(SlaTarget))
        rates = _kept_rows(inlines.get(BillingRate))
        if change:
            fields = changed_values(form, set(services.CONTRACT_FIELDS) | {"sites", "assets"})
            if not fields and targets is None and rates is None:
                return
            extra = {"targets": targets} if targets is not None else {}
            if rates is not None:
                extra["billing_rates"] = rates
            saved = self.call_service(
                services.contract_update,
                contract=models.Contract.objects.get(pk=form.instance.pk),
                by=request.user,
                **fields,
                **extra,
            )
        else:
            data = dict(form.cleaned_data)
            saved = self.call_service(
                services.contract_create,
                by=request.user,
                targets=targets or [],
                billing_rates=rates or [],
                **{name: data[name] for name in data if name in services.CONTRACT_FIELDS},
                sites=list(data["sites"]),
                assets=list(data.get("assets") or []),
            )
        adopt_saved(form.instance, saved)


class _HoldReasonsField(forms.TypedMultipleChoiceField):
    """The hold reasons that pause the clock, as check boxes (stored as a JSON list)."""

    def __init__(self, **kwargs):
        super().__init__(choices=HoldReason.choices, widget=forms.CheckboxSelectMultiple, **kwargs)

    def prepare_value(self, value):
        return value if isinstance(value, list) else super().prepare_value(value)


class BusinessCalendarForm(forms.ModelForm):
    working_days = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS, coerce=int, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = models.BusinessCalendar
        fields = ("site", "working_days", "day_starts", "day_ends")


class HolidayInline(ScopedInlineMixin, admin.TabularInline):
    model = Holiday
    extra = 0
    fields = ("date", "name")


@admin.register(models.BusinessCalendar)
class BusinessCalendarAdmin(SiteScopedAdminMixin, admin.ModelAdmin):
    """A site's working week and holidays (in the site's time zone): the hours its contracts'
    business-time targets count. Written through the calendar services."""

    form = BusinessCalendarForm
    permissions = NO_DELETE
    list_display = ("site", "days", "day_starts", "day_ends")
    list_select_related = ("site",)
    inlines = (HolidayInline,)

    @admin.display(description="working days")
    def days(self, calendar):
        return ", ".join(name for number, name in WEEKDAYS if number in calendar.working_days)

    def get_readonly_fields(self, request, obj=None):
        return ("site",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        """Nothing yet: `save_related` hands the calendar and its holidays to the service."""

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            formset.save(commit=False)
        holidays = _kept_rows(formsets[0] if formsets else None)
        fields = changed_values(form, {"working_days", "day_starts", "day_ends"})
        if change:
            if not fields and holidays is None:
                return
            extra = {"holidays": holidays} if holidays is not None else {}
            saved = self.call_service(
                services.business_calendar_update,
                calendar=models.BusinessCalendar.objects.get(pk=form.instance.pk),
                by=request.user,
                **fields,
                **extra,
            )
        else:
            saved = self.call_service(
                services.business_calendar_create,
                site=form.cleaned_data["site"],
                by=request.user,
                holidays=holidays or [],
                **fields,
            )
        adopt_saved(form.instance, saved)


@admin.register(models.LabourRate)
class LabourRateAdmin(SiteScopedAdminMixin, admin.ModelAdmin):
    """What an hour costs the partner, per technician, per skill or by default (internal:
    never shown to customer viewers). Planners see the rates of the people they see and the
    shared ones; superusers write, since a skill's or the default rate costs every customer's
    work."""

    permissions = NO_DELETE
    planner_permissions = VIEW_ONLY
    list_display = ("__str__", "technician", "skill", "currency", "hourly_cost", "valid_from")
    list_filter = ("currency", "skill")
    list_select_related = ("technician", "skill")

    def scope_queryset(self, queryset, request):
        user = request.user
        if user.is_superuser:
            return queryset
        return queryset.filter(technician__isnull=True) | queryset.filter(
            technician__in=visible_users(user)
        )


@admin.register(models.SlaWarning)
class SlaWarningAdmin(SiteScopedAdminMixin, admin.ModelAdmin):
    """Warnings sent to planners as work neared or passed its SLA (written by the SLA beat)."""

    permissions = VIEW_ONLY
    list_display = ("sent_at", "work_order", "measure", "state", "due_at", "recipients")
    list_filter = ("measure", "state")
    list_select_related = ("work_order",)
    date_hierarchy = "sent_at"

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]
