from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME, ActionForm
from django.contrib.admin.utils import unquote
from django.db import transaction
from django.db.models import Prefetch
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join

from assets.models import Asset, Customer, Site, StockMovement
from assets.search import words
from cmms.admin import (
    NO_DELETE,
    SERVICE_ERRORS,
    VIEW_ONLY,
    AutocompleteFilterMixin,
    ReadOnlyInlineMixin,
    ScopedInlineMixin,
    SiteScopedAdminMixin,
    adopt_saved,
    autocomplete_widget,
    changed_values,
    inline_edits,
    service_error_messages,
)
from cmms.inputs import parse_id
from cmms.scoping import held_customers, may_own
from cmms.spreadsheets import SpreadsheetExportMixin
from contracts.choices import SlaState
from workorders import checklists, models, policy, service_lines, services
from workorders.choices import HoldReason, Status, StepKind
from workorders.costs import work_order_cost
from workorders.creation import STEP_FIELDS
from workorders.job_plans import (
    QUANTITY_NOT_POSITIVE,
    job_plan_check_unused,
    job_plan_delete,
    job_plan_save,
)
from workorders.resources import SUMMARY_COLUMNS, WorkOrderResource
from workorders.search import number_prefix, work_orders_matching

INITIAL_STATUSES = (Status.REQUESTED, Status.APPROVED, Status.SCHEDULED)
HOLD_REASON = "set by planner"
CANCEL_REASON = "cancelled by planner"


@admin.register(models.FailureCode)
class FailureCodeAdmin(SiteScopedAdminMixin, admin.ModelAdmin):
    """The failure reporting hierarchy, shared by every site's KPIs: superusers write."""

    planner_permissions = VIEW_ONLY
    list_display = ("code", "name", "kind", "parent")
    list_filter = ("kind",)
    list_select_related = ("parent",)
    search_fields = ("code", "name")
    autocomplete_fields = ("parent",)


# ---------------------------------------------------------------- work order inlines


class OpenWorkOnlyMixin:
    """Inline rows of closed or cancelled work cannot change any more."""

    def _open(self, obj):
        return obj is None or obj.is_open

    def has_add_permission(self, request, obj=None):
        return self._open(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._open(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._open(obj) and super().has_delete_permission(request, obj)


class StepForm(forms.ModelForm):
    """A step row; one posted without a kind (an older form, a script) is a task."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "kind" in self.fields:
            self.fields["kind"].required = False

    def clean_kind(self):
        return self.cleaned_data.get("kind") or StepKind.TASK


class ChecklistStepInline(OpenWorkOnlyMixin, ScopedInlineMixin, admin.TabularInline):
    """Planners write the steps; technicians tick them (results are read-only here)."""

    model = models.ChecklistStep
    form = StepForm
    extra = 0
    readonly_fields = ("done", "result", "value", "done_by", "confirmation")
    fields = (*models.ChecklistStep.PLANNED_FIELDS, *readonly_fields)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("done_by").prefetch_related("photos")

    @admin.display(description="safety confirmation")
    def confirmation(self, step):
        """Who confirmed a safety step and when, with the photos taken to confirm it."""
        if not step.pk or not step.is_safety:
            return "—"
        if not step.done:
            return "Not confirmed"
        photos = format_html_join(
            " ",
            '<a href="{}" target="_blank" rel="noopener">photo</a>',
            ((reverse("tech:photo-file", args=[photo.pk]),) for photo in step.photos.all()),
        )
        return format_html(
            "Confirmed by {} at {} {}",
            step.done_by.get_username() if step.done_by else "—",
            date_format(timezone.localtime(step.done_at), "j M Y H:i T") if step.done_at else "—",
            photos,
        )


class LabourInline(OpenWorkOnlyMixin, ScopedInlineMixin, admin.TabularInline):
    """Existing time is read-only; new rows are recorded with `labour_add`."""

    model = models.LabourEntry
    extra = 0
    can_delete = False
    fields = (
        "technician",
        "started_at",
        "hours",
        "overtime",
        "note",
        "ended_at",
        "automatic",
        "cost_rate",
        "cost",
    )
    readonly_fields = ("ended_at", "automatic", "cost_rate", "cost")
    verbose_name_plural = "labour (add time worked by hand)"

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("technician")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "technician":
            kwargs["queryset"] = policy.assignable_technicians(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form.base_fields["started_at"].initial = timezone.now
        return formset


class PartReservationInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = models.PartReservation
    fields = ("stock", "quantity", "issued", "created_at")
    verbose_name_plural = "parts reserved"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("stock__part", "stock__storeroom__site")


class StatusChangeInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = models.StatusChange
    fields = ("changed_at", "from_status", "to_status", "reason", "changed_by")
    verbose_name_plural = "status history"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("changed_by")


class WorkOrderEventInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = models.WorkOrderEvent
    fields = ("created_at", "kind", "message", "created_by")
    verbose_name_plural = "timeline"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("created_by")


class SignatureInline(ReadOnlyInlineMixin, admin.TabularInline):
    """Sign-off signatures, the superseded ones too (docs/sign-off.md); the drawing is served by
    the technician pages to users who may see the site, never from public media."""

    model = models.Signature
    fields = ("signed_at", "role", "signer_name", "signed_by", "drawing", "superseded_at")
    readonly_fields = fields
    verbose_name_plural = "sign-off signatures"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("signed_by")

    @admin.display(description="signature")
    def drawing(self, signature):
        url = reverse("tech:signature-file", args=[signature.pk])
        return format_html(
            '<a href="{}"><img src="{}" alt="Signature of {}" height="40"></a>',
            url,
            url,
            signature.signer_name,
        )


class ServiceLineInline(ScopedInlineMixin, admin.TabularInline):
    """External services (vendor, description, amount); written by the service-line services,
    on any status (invoices arrive after the work is done)."""

    model = models.ServiceLine
    extra = 0
    fields = ("vendor", "description", "amount", "created_at", "created_by")
    readonly_fields = ("created_at", "created_by")
    verbose_name_plural = "external services"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("created_by")


class PartsIssuedInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = StockMovement
    fields = ("created_at", "stock", "kind", "quantity", "unit_cost", "created_by")
    verbose_name_plural = "parts issued and returned"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("stock__part", "stock__storeroom__site", "created_by")
        )


# ---------------------------------------------------------------- work orders


class OverdueFilter(admin.SimpleListFilter):
    title = "due"
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return [("overdue", "Overdue"), ("week", "Due within 7 days")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "overdue":
            return queryset.overdue(now)
        if self.value() == "week":
            return queryset.open().filter(due_at__gte=now, due_at__lt=now + timezone.timedelta(7))
        return queryset


class SlaStateFilter(admin.SimpleListFilter):
    """Work by its SLA state at this moment (computed in SQL, not the last beat run's)."""

    title = "SLA"
    parameter_name = "sla"

    def lookups(self, request, model_admin):
        return SlaState.choices

    def queryset(self, request, queryset):
        if self.value() in SlaState.values:
            return queryset.in_sla_state(self.value(), now=timezone.now())
        return queryset


class WorkOrderActionForm(ActionForm):
    """The action bar with the hold reason code "Put on hold" records (default other)."""

    hold_reason = forms.ChoiceField(
        choices=[("", "Hold reason…"), *HoldReason.choices],
        required=False,
        label="",
        widget=forms.Select(attrs={"aria-label": "Hold reason (for Put on hold)"}),
    )


class AssetSubtreeFilter(AutocompleteFilterMixin, admin.SimpleListFilter):
    """Work on an asset and everything below it; the asset is chosen by search (any id works)."""

    title = "asset (and below)"
    parameter_name = "asset_tree"

    def __init__(self, request, params, model, model_admin):
        self.request = request
        self.model_admin = model_admin
        self.source_field = models.WorkOrder._meta.get_field("asset")
        super().__init__(request, params, model, model_admin)

    def lookups(self, request, model_admin):
        return ()  # nothing listed: the asset is found by search

    def queryset(self, request, queryset):
        if not (self.value() or "").isdigit():
            return queryset
        asset_id = parse_id(self.value())  # None: digits no id has ("²", twenty nines)
        asset = Asset.objects.for_user(request.user).filter(pk=asset_id or 0).first()
        if asset is None:
            return queryset.none()
        return queryset.filter(asset__path__startswith=asset.path)


class TechnicianChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        sites = ", ".join(sorted(site.code for site in obj.sites.all()))
        return f"{obj.get_full_name() or obj.username} ({sites})"


class AssignForm(forms.Form):
    """The technician is found by search (the people admin's autocomplete, scoped to the
    planner's sites) and must be one `assignable_technicians` allows."""

    technician = TechnicianChoiceField(queryset=None, required=True)

    def __init__(self, *args, technicians, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["technician"]
        field.widget = autocomplete_widget(models.WorkOrder._meta.get_field("assignee"), admin_site)
        field.widget.is_required = field.required
        field.queryset = technicians  # also the widget's choices: the chosen person's label


class ScheduleForm(AssignForm):
    scheduled_start = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Leave empty to keep each work order's start.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["technician"].required = False
        self.fields["technician"].widget.is_required = False
        self.fields["technician"].help_text = "Leave empty to keep each work order's assignee."


# Set by the services (alerts, PM, lifecycle), shown read-only to planners.
ORIGIN_FIELDS = (
    "job_plan",
    "pm_plan",
    "planned_due_at",
    "waiting_for_parts",
    "condition",
    "alert_rule",
    "alert_severity",
    "alert_count",
    "first_alert_at",
    "last_alert_at",
)
CLIENT_DECISION_FIELDS = (
    "client_approval",
    "client_approval_by",
    "client_approval_at",
    "client_approval_comment",
)
# The contract's SLA clock (contracts/sla.py), set by the services.
SLA_FIELDS = (
    "contract",
    "sla",
    "response_due_at",
    "resolution_due_at",
    "sla_paused_since",
    "sla_paused_seconds",
)
# Which sign-off signatures completing needs: copied from the job plan and the contract when the
# work order is created (workorders.signatures), never edited.
SIGN_OFF_FIELDS = ("technician_signature_required", "client_signature_required")
PROGRESS_FIELDS = (
    "source",
    "requested_by",
    "on_hold_reason",
    "hold_reason",
    "started_at",
    "completed_at",
    "closed_at",
    "actual_hours",
    "created_at",
    "updated_at",
)


# Summary columns the list shows in a narrower form (the export keeps the full names).
COMPACT_COLUMNS = {"site": "site_code", "asset": "asset_tag"}


def _short_moment(moment) -> str | None:
    """A moment in the current time zone as "2026-11-30 14:00", the day kept on one line (None
    shows the admin's dash)."""
    if moment is None:
        return None
    local = timezone.localtime(moment)
    return format_html(
        '<span class="day">{}</span> {}', date_format(local, "Y-m-d"), date_format(local, "H:i")
    )


@admin.register(models.WorkOrder)
class WorkOrderAdmin(SiteScopedAdminMixin, SpreadsheetExportMixin, admin.ModelAdmin):
    """Planning of work orders. Status changes only by the lifecycle actions of the list.

    Adding goes through `work_order_create`, changing through `work_order_update`, status
    actions through `work_order_transition`, so history and rules are those of the API.
    The filtered list exports to CSV or XLSX ("Export" button: same filters and search).
    """

    permissions = NO_DELETE
    resource_classes = [WorkOrderResource]
    # The summary columns (the site by its code, the asset by its tag), then short dates: with
    # the admin's side menu left out of this page, all of it fits a 1440 px screen
    # (work_order_list.css keeps numbers, codes and dates on one line).
    list_display = (
        *(COMPACT_COLUMNS.get(name, name) for name in SUMMARY_COLUMNS),
        "scheduled",
        "due",
        "sla",
        "waiting_for_parts",
    )
    list_filter = (
        "status",
        OverdueFilter,
        SlaStateFilter,
        "priority",
        "type",
        "source",
        "waiting_for_parts",
        ("site", admin.RelatedOnlyFieldListFilter),
        AssetSubtreeFilter,
        ("assignee", admin.RelatedOnlyFieldListFilter),
        ("created_at", admin.DateFieldListFilter),
    )
    list_select_related = ("site", "asset", "assignee")
    # Searched by `work_orders_matching`: a number by the start of it, words in the title,
    # description or the asset's tag and name, each from an index.
    search_fields = ("number", "title", "description", "asset__tag", "asset__name")
    search_help_text = "A number (WO-0500, 500), or words of the title, description or asset."
    autocomplete_fields = ("asset", "assignee", "required_skill", "problem", "cause", "remedy")
    actions = ("approve", "assign", "schedule", "put_on_hold", "cancel", "close")
    action_form = WorkOrderActionForm
    fieldsets = (
        (None, {"fields": ("number", "status", "site", "asset", "title", "description")}),
        ("Planning", {"fields": ("type", "priority", "assignee", "required_skill")}),
        ("Dates", {"fields": ("scheduled_start", "due_at", "estimated_hours", "needs_attention")}),
        ("Failure reporting", {"fields": ("problem", "cause", "remedy")}),
        (
            "Origin",
            {
                "classes": ("collapse",),
                "fields": ORIGIN_FIELDS,
            },
        ),
        (
            "Progress",
            {"fields": PROGRESS_FIELDS},
        ),
        ("Cost so far", {"fields": ("cost_summary",)}),
        # The estimate (above the contract's not-to-exceed amount the client approves it:
        # workorders.approvals) and the client's decision, which only the client makes.
        ("Client approval", {"fields": ("estimated_cost", *CLIENT_DECISION_FIELDS)}),
        ("SLA", {"fields": SLA_FIELDS}),
        ("Sign-off", {"fields": SIGN_OFF_FIELDS}),
    )
    progress_fields = (
        "number",
        *ORIGIN_FIELDS,
        *PROGRESS_FIELDS,
        "cost_summary",
        *CLIENT_DECISION_FIELDS,
        *SLA_FIELDS,
        *SIGN_OFF_FIELDS,
    )
    inlines = (
        ChecklistStepInline,
        LabourInline,
        PartReservationInline,
        PartsIssuedInline,
        ServiceLineInline,
        # alerts.admin adds the alerts behind the work order here
        SignatureInline,
        StatusChangeInline,
        WorkOrderEventInline,
    )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.progress_fields
        fixed = (*self.progress_fields, "status", "site")
        if obj.is_open:
            return fixed
        # Closed and cancelled work keeps its planning; only failure codes may be corrected.
        editable = {"problem", "cause", "remedy"}
        return fixed + tuple(
            sorted(services.EDITABLE_FIELDS - editable | {"assignee", "estimated_cost"})
        )

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "status":
            kwargs["choices"] = [(s.value, s.label) for s in INITIAL_STATUSES]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    class Media:
        css = {"all": ("workorders/work_order_list.css",)}

    def changelist_view(self, request, extra_context=None):
        """The list without the admin's side menu: its 275 px go to the columns."""
        extra_context = {"is_nav_sidebar_enabled": False, **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    @admin.display(description="cost")
    def cost_summary(self, work_order):
        """Labour + parts + services so far (workorders.costs), in the customer's currency."""
        if not work_order.pk:
            return "—"
        cost = work_order_cost(work_order)
        unpriced = " (some labour has no rate: not counted)" if cost.labour_unpriced else ""
        return (
            f"labour {cost.labour} + parts {cost.parts} + services {cost.services} = "
            f"{cost.total} {cost.currency}{unpriced}"
        )

    @admin.display(description="site", ordering="site__code")
    def site_code(self, work_order):
        return work_order.site.code

    @admin.display(description="asset", ordering="asset__tag")
    def asset_tag(self, work_order):
        return work_order.asset.tag if work_order.asset_id else None

    @admin.display(description="scheduled", ordering="scheduled_start")
    def scheduled(self, work_order):
        return _short_moment(work_order.scheduled_start)

    @admin.display(description="SLA")
    def sla(self, work_order):
        """At risk or breached with the due time behind it; nothing while on track."""
        state = work_order.sla_state_now
        if state not in (SlaState.AT_RISK, SlaState.BREACHED):
            return None
        return format_html(
            '<strong class="sla-{}">{}</strong> {}',
            state,
            SlaState(state).label,
            _short_moment(work_order.sla_due_at),
        )

    @admin.display(description="due", ordering="due_at")
    def due(self, work_order):
        """The due moment, marked "overdue" once it has passed on open work."""
        moment = _short_moment(work_order.due_at)
        if moment and work_order.is_overdue:
            return format_html('{} <strong class="overdue">overdue</strong>', moment)
        return moment

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        assets = Asset.objects.for_user(request.user)
        return work_orders_matching(queryset, search_term, assets=assets), False

    def save_model(self, request, obj, form, change):
        if change:
            fresh = models.WorkOrder.objects.get(pk=obj.pk)
            fields = changed_values(form, services.EDITABLE_FIELDS | {"assignee"})
            saved = self.call_service(
                services.work_order_update, work_order=fresh, by=request.user, **fields
            )
            if "estimated_cost" in form.changed_data:
                saved = self.call_service(
                    services.work_order_estimate_set,
                    work_order=saved,
                    estimated_cost=form.cleaned_data["estimated_cost"],
                    by=request.user,
                )
        else:
            data = dict(form.cleaned_data)
            saved = self.call_service(
                services.work_order_create,
                site=data.pop("site"),
                title=data.pop("title"),
                status=data.pop("status"),
                by=request.user,
                **data,
            )
        adopt_saved(obj, saved)

    def save_formset(self, request, form, formset, change):
        if formset.model is models.ServiceLine:
            return self._save_service_lines(request, form, formset)
        if formset.model is models.ChecklistStep:
            edits = inline_edits(formset)
            formset.save(commit=False)  # only for the admin's history message
            if edits:
                self.call_service(
                    checklists.checklist_steps_edit,
                    work_order=form.instance,
                    edits=edits,
                    by=request.user,
                )
            return None
        if formset.model is not models.LabourEntry:
            return super().save_formset(request, form, formset, change)
        for entry in formset.save(commit=False):
            self.call_service(
                services.labour_add,
                work_order=form.instance,
                technician=entry.technician,
                hours=entry.hours,
                started_at=entry.started_at,
                note=entry.note,
                overtime=entry.overtime,
                by=request.user,
            )
        return None

    def _save_service_lines(self, request, form, formset):
        """New, changed and deleted service lines, each through its service."""
        lines = formset.save(commit=False)
        for line in formset.deleted_objects:
            self.call_service(service_lines.service_line_delete, line=line, by=request.user)
        changed = {line.pk for line, _ in formset.changed_objects}
        for line in lines:
            fields = {"vendor": line.vendor, "description": line.description, "amount": line.amount}
            if line.pk in changed:
                self.call_service(
                    service_lines.service_line_update, line=line, by=request.user, **fields
                )
            else:
                self.call_service(
                    service_lines.service_line_add,
                    work_order=form.instance,
                    by=request.user,
                    **fields,
                )
        return None

    # -- lifecycle actions, one service call per row, each refused row reported with its reason

    def _transition(self, request, queryset, *, to, verb, reason="", hold_reason=""):
        done, refused = [], []
        for work_order in queryset.order_by("pk"):
            try:
                services.work_order_transition(
                    work_order=work_order,
                    to=to,
                    by=request.user,
                    reason=reason,
                    hold_reason=hold_reason,
                )
            except SERVICE_ERRORS as error:
                refused.append((work_order.number, service_error_messages(error)))
            else:
                done.append(work_order.number)
        self.report_per_row(request, done=done, refused=refused, verb=verb)

    @admin.action(description="Approve selected work orders", permissions=["change"])
    def approve(self, request, queryset):
        self._transition(request, queryset, to=Status.APPROVED, verb="Approved")

    @admin.action(description="Assign selected work orders to a technician", permissions=["change"])
    def assign(self, request, queryset):
        form = self._action_form(request, AssignForm)
        if not form.is_valid():
            return self._action_page(request, queryset, form, "assign", "Assign to a technician")
        technician = form.cleaned_data["technician"]
        self._per_row(
            request,
            queryset,
            verb=f"Assigned to {technician.username}",
            change=lambda wo: services.work_order_assign(
                work_order=wo, assignee=technician, by=request.user
            ),
        )
        return None

    @admin.action(description="Schedule selected work orders", permissions=["change"])
    def schedule(self, request, queryset):
        form = self._action_form(request, ScheduleForm)
        if not form.is_valid():
            return self._action_page(request, queryset, form, "schedule", "Schedule work orders")
        start = form.cleaned_data["scheduled_start"]
        technician = form.cleaned_data["technician"]

        def schedule_one(work_order):
            # The lifecycle first: a row it refuses gets no new start or assignee either.
            if work_order.status != Status.SCHEDULED:
                services.work_order_transition(
                    work_order=work_order, to=Status.SCHEDULED, by=request.user
                )
            fields = {}
            if start is not None:
                fields["scheduled_start"] = start
            if technician is not None and technician != work_order.assignee:
                fields["assignee"] = technician
            if fields:
                services.work_order_update(work_order=work_order, by=request.user, **fields)

        self._per_row(request, queryset, verb="Scheduled", change=schedule_one)
        return None

    def _technicians(self, request):
        return (
            policy.assignable_technicians(request.user)
            # Labelled with the planner's sites only, never a shared technician's other sites.
            .prefetch_related(Prefetch("sites", queryset=Site.objects.for_user(request.user)))
            .order_by("first_name", "username")
        )

    def _action_form(self, request, form_class):
        data = request.POST if "apply" in request.POST else None
        return form_class(data, technicians=self._technicians(request), admin_site=self.admin_site)

    def _action_page(self, request, queryset, form, action, title):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "form": form,
            "rows": queryset.select_related("site", "asset", "assignee").order_by("pk"),
            "action_name": action,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/workorders/workorder/action_form.html", context)

    def _per_row(self, request, queryset, *, verb, change):
        """Apply `change` to each row in its own transaction; report done and refused rows."""
        done, refused = [], []
        for work_order in queryset.order_by("pk"):
            try:
                with transaction.atomic():
                    change(work_order)
            except SERVICE_ERRORS as error:
                refused.append((work_order.number, service_error_messages(error)))
            else:
                done.append(work_order.number)
        self.report_per_row(request, done=done, refused=refused, verb=verb)

    def has_export_permission(self, request):
        return self.has_view_permission(request)

    @admin.action(description="Put selected work orders on hold", permissions=["change"])
    def put_on_hold(self, request, queryset):
        code = request.POST.get("hold_reason", "")
        self._transition(
            request,
            queryset,
            to=Status.ON_HOLD,
            verb="Put on hold",
            reason=HOLD_REASON,
            hold_reason=code if code in HoldReason.values else HoldReason.OTHER,
        )

    @admin.action(description="Cancel selected work orders", permissions=["change"])
    def cancel(self, request, queryset):
        self._transition(
            request, queryset, to=Status.CANCELLED, verb="Cancelled", reason=CANCEL_REASON
        )

    @admin.action(description="Close selected work orders", permissions=["change"])
    def close(self, request, queryset):
        self._transition(request, queryset, to=Status.CLOSED, verb="Closed")


# ---------------------------------------------------------------- read-only journals


class JournalSearchMixin:
    """The search box of a journal, answered from indexes: a work order number (`WO-0500`,
    `500`) by the start of the number on its index; other text, every word somewhere in the
    entry's `journal_text_field` (a trigram index on PostgreSQL). Not `icontains` over every
    search field and row, which is what Django's default search would run; without a
    `journal_text_field`, other text is searched the default way."""

    journal_text_field: str | None = None

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        prefix = number_prefix(search_term)
        if prefix is not None:
            return queryset.filter(work_order__number__startswith=prefix), False
        if self.journal_text_field is None:
            return super().get_search_results(request, queryset, search_term)
        for word in words(search_term):
            queryset = queryset.filter(**{f"{self.journal_text_field}__icontains": word})
        return queryset, False


@admin.register(models.StatusChange)
class StatusChangeAdmin(JournalSearchMixin, SiteScopedAdminMixin, admin.ModelAdmin):
    """Who moved which work order when: the audit trail, read-only."""

    permissions = VIEW_ONLY
    list_display = ("changed_at", "work_order", "from_status", "to_status", "reason", "changed_by")
    list_filter = (
        "to_status",
        ("work_order__site", admin.RelatedOnlyFieldListFilter),
        ("changed_at", admin.DateFieldListFilter),
    )
    list_select_related = ("work_order", "changed_by")
    search_fields = ("work_order__number", "reason")
    journal_text_field = "reason"


@admin.register(models.WorkOrderEvent)
class WorkOrderEventAdmin(JournalSearchMixin, SiteScopedAdminMixin, admin.ModelAdmin):
    permissions = VIEW_ONLY
    list_display = ("created_at", "work_order", "kind", "message", "created_by")
    list_filter = (
        "kind",
        ("work_order__site", admin.RelatedOnlyFieldListFilter),
        ("created_at", admin.DateFieldListFilter),
    )
    list_select_related = ("work_order", "created_by")
    search_fields = ("work_order__number", "message")
    journal_text_field = "message"


@admin.register(models.LabourEntry)
class LabourEntryAdmin(JournalSearchMixin, SiteScopedAdminMixin, admin.ModelAdmin):
    """Timesheets across work orders; time is recorded on the work order or by technicians."""

    permissions = VIEW_ONLY
    list_display = (
        "started_at",
        "technician",
        "work_order",
        "hours",
        "overtime",
        "cost",
        "automatic",
        "note",
    )
    list_filter = (
        ("technician", admin.RelatedOnlyFieldListFilter),
        ("work_order__site", admin.RelatedOnlyFieldListFilter),
        "automatic",
        ("started_at", admin.DateFieldListFilter),
    )
    list_select_related = ("technician", "work_order")
    search_fields = ("work_order__number", "note")  # the technician is a filter
    journal_text_field = "note"


@admin.register(models.ServiceLine)
class ServiceLineAdmin(SiteScopedAdminMixin, admin.ModelAdmin):
    """External services across work orders; recorded on the work order page (its inline)."""

    permissions = VIEW_ONLY
    list_display = ("created_at", "work_order", "vendor", "description", "amount", "created_by")
    list_filter = (
        ("work_order__site", admin.RelatedOnlyFieldListFilter),
        ("created_at", admin.DateFieldListFilter),
    )
    list_select_related = ("work_order", "created_by")
    search_fields = ("work_order__number", "vendor", "description")


# ---------------------------------------------------------------- job plans and reorders


def may_write_job_plan(request, job_plan) -> bool:
    """Whether the user may change or delete this plan (None: a new plan), by its owner."""
    return job_plan is None or may_own(
        request.user,
        site_id=job_plan.site_id,
        customer_id=job_plan.customer_id,
        model=models.JobPlan,
    )


class JobPlanInlineMixin(ScopedInlineMixin):
    """Steps and parts are read-only on a plan the planner may read but not write."""

    def has_add_permission(self, request, obj=None):
        return may_write_job_plan(request, obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return may_write_job_plan(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return may_write_job_plan(request, obj) and super().has_delete_permission(request, obj)


class JobPlanStepInline(JobPlanInlineMixin, admin.TabularInline):
    model = models.JobPlanStep
    form = StepForm
    extra = 0
    fields = models.JobPlanStep.PLANNED_FIELDS


class JobPlanPartForm(forms.ModelForm):
    def clean_quantity(self):
        """Said on the row, in the service's words, instead of naming the database constraint."""
        quantity = self.cleaned_data["quantity"]
        if quantity is not None and quantity <= 0:
            raise forms.ValidationError(QUANTITY_NOT_POSITIVE)
        return quantity


class JobPlanPartInline(JobPlanInlineMixin, admin.TabularInline):
    model = models.JobPlanPart
    form = JobPlanPartForm
    extra = 0
    fields = ("part", "quantity")
    autocomplete_fields = ("part",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("part")


@admin.register(models.JobPlan)
class JobPlanAdmin(SiteScopedAdminMixin, admin.ModelAdmin):
    """Reusable task templates of a site, a customer or every site; retire a used one with
    "is active": deleting one that an alert rule or PM plan uses is refused with their names.

    Planners see the plans usable at their sites and change those their sites own (and those
    of customers all of whose sites they plan); others show read-only. The plan and its steps
    and parts are written together by `job_plan_save` once the form and both inlines are
    valid, so an admin save is validated and audited like an API write.
    """

    list_display = (
        "code",
        "title",
        "owner",
        "work_type",
        "required_skill",
        "estimated_hours",
        "is_active",
    )
    list_select_related = ("required_skill", "site", "customer")
    list_filter = ("work_type", "is_active", "required_skill")
    search_fields = ("code", "title")
    autocomplete_fields = ("required_skill",)
    inlines = (JobPlanStepInline, JobPlanPartInline)

    @admin.display(description="owner")
    def owner(self, job_plan):
        return job_plan.site or job_plan.customer or "every site"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "customer" and not request.user.is_superuser:
            kwargs["queryset"] = Customer.objects.filter(
                pk__in=held_customers(request.user, models.JobPlan)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        return may_write_job_plan(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return may_write_job_plan(request, obj) and super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # one at a time, through `job_plan_delete`
        return actions

    def delete_view(self, request, object_id, extra_context=None):
        """A plan in use is not deleted: back to its page with the names of what uses it."""
        job_plan = self.get_object(request, unquote(object_id))
        try:
            if job_plan is not None and self.has_delete_permission(request, job_plan):
                job_plan_check_unused(job_plan=job_plan, by=request.user)
            return super().delete_view(request, object_id, extra_context)
        except SERVICE_ERRORS as error:
            self.message_user(request, service_error_messages(error), messages.ERROR)
            return HttpResponseRedirect(
                reverse("admin:workorders_jobplan_change", args=[job_plan.pk])
            )

    def delete_model(self, request, obj):
        job_plan_delete(job_plan=obj, by=request.user)

    def save_model(self, request, obj, form, change):
        """Nothing yet: `save_related` hands the plan and its inlines to the service at once."""

    def save_related(self, request, form, formsets, change):
        inlines = {formset.model: formset for formset in formsets}
        for formset in formsets:
            formset.save(commit=False)  # only for the admin's history message; nothing is saved
        fields = changed_values(form, set(form.fields)) if change else dict(form.cleaned_data)
        steps = _submitted_steps(inlines.get(models.JobPlanStep))
        parts = _submitted_parts(inlines.get(models.JobPlanPart))
        if change and not fields and steps is None and parts is None:
            return  # saved unchanged: no write, no empty audit entry
        saved = self.call_service(
            job_plan_save,
            job_plan=models.JobPlan.objects.get(pk=form.instance.pk) if change else None,
            steps=steps,
            parts=parts,
            by=request.user,
            **fields,
        )
        adopt_saved(form.instance, saved)


def _kept_rows(formset) -> list[dict]:
    """Cleaned data of the inline rows that stay (not empty extras, not marked for deletion)."""
    deleted = formset.deleted_forms
    return [f.cleaned_data for f in formset.forms if f.cleaned_data and f not in deleted]


def _submitted_steps(formset) -> list[dict] | None:
    """The steps in position order, or None when the planner left them alone."""
    if formset is None or not formset.has_changed():
        return None
    rows = sorted(_kept_rows(formset), key=lambda row: row["position"])
    return [{name: r[name] for name in STEP_FIELDS} for r in rows]


def _submitted_parts(formset) -> list[tuple] | None:
    """The (part, quantity) pairs, or None when the planner left them alone."""
    if formset is None or not formset.has_changed():
        return None
    return [(row["part"], row["quantity"]) for row in _kept_rows(formset)]


@admin.register(models.ReorderSuggestion)
class ReorderSuggestionAdmin(JournalSearchMixin, SiteScopedAdminMixin, admin.ModelAdmin):
    """Parts that jobs needed but storerooms could not supply: the buyer's to-do list."""

    permissions = VIEW_ONLY
    list_display = ("created_at", "part", "storeroom", "quantity", "work_order", "resolved_at")
    list_filter = (
        ("resolved_at", admin.EmptyFieldListFilter),
        ("storeroom__site", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ("part", "storeroom__site", "work_order")
    search_fields = ("part__sku", "part__name", "work_order__number")
    date_hierarchy = "created_at"
