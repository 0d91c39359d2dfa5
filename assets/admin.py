from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.views.main import ChangeList
from django.db.models import Exists, OuterRef, Prefetch, Q, Subquery, Sum
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from assets import models, services
from assets.resources import AssetResource, PartResource
from assets.search import assets_matching
from cmms.admin import (
    NO_DELETE,
    SERVICE_ERRORS,
    VIEW_ONLY,
    ScopedInlineMixin,
    SiteScopedAdminMixin,
    adopt_saved,
    changed_values,
    service_error_messages,
)
from cmms.spreadsheets import SpreadsheetImportExportMixin

BREADCRUMB = " \N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK} "
MAX_INDENTED_DEPTH = 8


# ---------------------------------------------------------------- writes through services


class ServiceSavedAdminMixin:
    """Adding and changing go through the model's services (a refusal is a form error), so
    the rules are those of the API: `services.<model>_create(**values)` and
    `services.<model>_update(<model>=row, **changed values)`."""

    def save_model(self, request, obj, form, change):
        name = self.model._meta.model_name
        if change:
            fresh = type(obj).objects.get(pk=obj.pk)
            saved = self.call_service(
                getattr(services, f"{name}_update"),
                **{name: fresh},
                **changed_values(form, set(form.fields)),
            )
        else:
            values = {field: form.cleaned_data[field] for field in form.fields}
            saved = self.call_service(getattr(services, f"{name}_create"), **values)
        adopt_saved(obj, saved)


class InlineServices(NamedTuple):
    """The services that write an inline's rows: `create(<parent>=row, **values)`,
    `update(<argument>=row, **changed values)` and, where given, `delete(<argument>=row)`;
    `audited` services also take `by`, who is recorded in the audit trail."""

    create: Callable
    update: Callable
    argument: str
    parent: str
    delete: Callable | None = None
    audited: bool = False


class ServiceSavedInlinesMixin:
    """Rows added, changed or deleted in an inline go through their services too
    (`inline_services`: model -> InlineServices). Deleting without a delete service stays the
    formset's."""

    inline_services: dict[type, InlineServices] = {}

    def save_formset(self, request, form, formset, change):
        if formset.model not in self.inline_services:
            return super().save_formset(request, form, formset, change)
        services_ = InlineServices(*self.inline_services[formset.model])
        by = {"by": request.user} if services_.audited else {}
        formset.save(commit=False)
        for obj in formset.deleted_objects:
            if services_.delete is None:
                obj.delete()
            else:
                self.call_service(services_.delete, **{services_.argument: obj}, **by)
        for obj, changed in formset.changed_objects:
            fresh = type(obj).objects.get(pk=obj.pk)
            values = {name: getattr(obj, name) for name in changed}
            self.call_service(services_.update, **{services_.argument: fresh}, **values, **by)
        for obj in formset.new_objects:
            values = {name: getattr(obj, name) for name in formset.form.base_fields}
            saved = self.call_service(
                services_.create, **{services_.parent: form.instance}, **values, **by
            )
            adopt_saved(obj, saved)
        return None


# ---------------------------------------------------------------- customers and sites


@admin.register(models.Customer)
class CustomerAdmin(ServiceSavedAdminMixin, SiteScopedAdminMixin, admin.ModelAdmin):
    planner_permissions = VIEW_ONLY
    list_display = ("name", "currency", "site_codes")
    fields = ("name", "currency", "report_recipients")
    search_fields = ("name",)

    def get_queryset(self, request):
        # A customer's other sites are not the planner's to see, not even by code.
        sites = Prefetch("sites", queryset=models.Site.objects.for_user(request.user))
        return super().get_queryset(request).prefetch_related(sites)

    @admin.display(description="sites")
    def site_codes(self, customer):
        return ", ".join(site.code for site in customer.sites.all())


@admin.register(models.Site)
class SiteAdmin(ServiceSavedAdminMixin, SiteScopedAdminMixin, admin.ModelAdmin):
    planner_permissions = VIEW_ONLY
    list_display = ("code", "name", "customer", "timezone")
    list_filter = (("customer", admin.RelatedOnlyFieldListFilter), "timezone")
    list_select_related = ("customer",)
    search_fields = ("code", "name", "customer__name")


@admin.register(models.EquipmentClass)
class EquipmentClassAdmin(SiteScopedAdminMixin, admin.ModelAdmin):
    """Shared by every customer's assets, alert rules and PM plans: superusers write."""

    planner_permissions = VIEW_ONLY
    list_display = ("code", "name")
    search_fields = ("code", "name")


# ---------------------------------------------------------------- assets and meters


class MeterInline(ScopedInlineMixin, admin.TabularInline):
    model = models.Meter
    extra = 0
    fields = ("code", "name", "unit", "cumulative")


class IsolationPointInline(ScopedInlineMixin, admin.TabularInline):
    """Where the asset's energy sources are isolated: shown with its work's safety steps."""

    model = models.IsolationPoint
    extra = 0
    fields = ("position", "code", "energy_type", "location", "method")


class AssetChangeList(ChangeList):
    """Fetches the tags of every ancestor shown on the page in one query (no per-row queries)."""

    def get_results(self, request):
        super().get_results(request)
        ancestor_ids = {pk for asset in self.result_list for pk in asset.ancestor_ids()}
        tags = {}
        if ancestor_ids:
            tags = dict(models.Asset.objects.filter(pk__in=ancestor_ids).values_list("pk", "tag"))
        for asset in self.result_list:
            asset.ancestor_tags = [tags.get(pk, "?") for pk in asset.ancestor_ids()]


@admin.register(models.Asset)
class AssetAdmin(
    ServiceSavedInlinesMixin,
    ServiceSavedAdminMixin,
    SiteScopedAdminMixin,
    SpreadsheetImportExportMixin,
    admin.ModelAdmin,
):
    """The asset hierarchy, listed in tree order (by materialised path) with breadcrumbs.

    Adding and changing go through `asset_create`/`asset_update`, which keep path and depth;
    so does the CSV/XLSX import. QR labels print from the technician pages' label sheet.
    """

    permissions = NO_DELETE
    resource_classes = [AssetResource]

    class Media:
        css = {"all": ("planner/planner.css",)}

    actions = ("print_labels",)
    list_display = (
        "hierarchy",
        "name",
        "site",
        "level",
        "equipment_class",
        "criticality",
        "state",
        "manufacturer",
        "qr_label",
    )
    list_filter = (
        ("site", admin.RelatedOnlyFieldListFilter),
        "level",
        "criticality",
        "state",
        ("equipment_class", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ("site", "equipment_class")
    # Searched by `assets_matching`: the start of the tag or words of the name, from indexes.
    search_fields = ("tag", "name")
    search_help_text = (
        "The start of a tag (P-1 finds P-10), or words of the name, manufacturer, model or "
        "serial number."
    )
    autocomplete_fields = ("parent", "equipment_class")
    list_per_page = 100
    # Tree order within a site, read from the (site, path) index; Meta's ("site", "path")
    # sorts by the site's code, which means sorting every row.
    ordering = ("site_id", "path")
    fieldsets = (
        (None, {"fields": ("site", "parent", "location", "tag", "name", "level")}),
        (
            "Equipment",
            {"fields": ("equipment_class", "criticality", "state", "downtime_cost_per_hour")},
        ),
        (
            "Nameplate",
            {"fields": ("manufacturer", "model", "serial_number", "installed_on")},
        ),
        ("Monitoring", {"fields": ("monitoring",)}),
    )
    inlines = (MeterInline, IsolationPointInline)
    inline_services = {
        models.Meter: InlineServices(
            services.meter_create, services.meter_update, "meter", "asset"
        ),
        models.IsolationPoint: InlineServices(
            services.isolation_point_create,
            services.isolation_point_update,
            "isolation_point",
            "asset",
            delete=services.isolation_point_delete,
            audited=True,
        ),
    }

    def get_changelist(self, request, **kwargs):
        return AssetChangeList

    def get_search_results(self, request, queryset, search_term):
        return assets_matching(queryset, search_term, details=True), False

    def get_readonly_fields(self, request, obj=None):
        # Moving an asset to another site would orphan its subtree; that is not an edit.
        return ("location", "site", "monitoring") if obj else ("location", "monitoring")

    @admin.display(description="monitoring")
    def monitoring(self, asset):
        """Whether the sensors watching the asset are heard (the fleet check keeps
        `not_monitored_since`); said in words, in the site's time."""
        if not asset.pk:
            return "—"
        if asset.not_monitored_since:
            since = timezone.localtime(asset.not_monitored_since, ZoneInfo(asset.site.timezone))
            return format_html(
                '<strong class="not-monitored">Not monitored since {}</strong>: none of the '
                "sensors watching it has been heard since.",
                date_format(since, "j M Y H:i T"),
            )
        sensors = asset.sensors.filter(is_active=True)
        if not sensors.exists():
            return "No active sensor watches this asset."
        if not sensors.filter(last_sample_at__isnull=False).exists():
            return mark_safe(
                '<strong class="not-monitored">Never monitored</strong>: its sensors have not '
                "reported yet."
            )
        return "Monitored: a sensor watching it is heard."

    @admin.display(description="asset")
    def hierarchy(self, asset):
        trail = getattr(asset, "ancestor_tags", [])
        crumbs = BREADCRUMB.join(trail)
        # Indented by a class per depth (planner.css): the CSP blocks inline style attributes.
        return format_html(
            '<span class="asset-depth-{}">{}{}</span>{}',
            min(asset.depth, MAX_INDENTED_DEPTH),
            "└ " if asset.depth else "",
            asset.tag,
            format_html(' <small class="asset-trail">{}</small>', crumbs) if crumbs else "",
        )

    @admin.display(description="QR label")
    def qr_label(self, asset):
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">label</a>',
            reverse("tech:asset-label", args=[asset.pk]),
        )

    @admin.action(description="Print QR labels of the selected assets", permissions=["view"])
    def print_labels(self, request, queryset):
        ids = ",".join(str(pk) for pk in queryset.order_by("path").values_list("pk", flat=True))
        return HttpResponseRedirect(f"{reverse('tech:asset-labels')}?ids={ids}")

    @admin.display(description="location in the hierarchy")
    def location(self, asset):
        if not asset.pk:
            return "—"
        ancestors = models.Asset.objects.ancestors_of(asset, include_self=True)
        return BREADCRUMB.join(f"{a.tag} {a.name}" for a in ancestors)


@admin.register(models.Meter)
class MeterAdmin(ServiceSavedAdminMixin, SiteScopedAdminMixin, admin.ModelAdmin):
    list_display = ("asset", "code", "name", "unit", "cumulative", "last_reading")
    list_filter = (("asset__site", admin.RelatedOnlyFieldListFilter), "unit", "cumulative")
    list_select_related = ("asset",)
    search_fields = ("code", "name", "asset__tag", "asset__name")
    autocomplete_fields = ("asset",)

    def get_queryset(self, request):
        latest = models.MeterReading.objects.filter(meter=OuterRef("pk")).order_by("-observed_at")
        latest_value = Subquery(latest.values("value")[:1])
        return super().get_queryset(request).annotate(latest_value=latest_value)

    @admin.display(description="last reading")
    def last_reading(self, meter):
        return "—" if meter.latest_value is None else f"{meter.latest_value} {meter.unit}"


@admin.register(models.MeterReading)
class MeterReadingAdmin(SiteScopedAdminMixin, admin.ModelAdmin):
    """Readings come from people and gateways through the API; the admin shows them."""

    permissions = VIEW_ONLY
    list_display = ("meter", "value", "observed_at", "recorded_by")
    list_filter = (
        ("meter__asset__site", admin.RelatedOnlyFieldListFilter),
        ("observed_at", admin.DateFieldListFilter),
    )
    list_select_related = ("meter__asset", "recorded_by")
    search_fields = ("meter__code", "meter__asset__tag")


# ---------------------------------------------------------------- parts and stock


class PartLowStockFilter(admin.SimpleListFilter):
    """Parts with a storeroom of the planner's sites at or below its reorder point."""

    title = "stock level"
    parameter_name = "level"

    def lookups(self, request, model_admin):
        return [("low", "Low in one of my storerooms (on hand - reserved <= reorder point)")]

    def queryset(self, request, queryset):
        if self.value() == "low":
            return queryset.filter(low_somewhere=True)
        return queryset


class PartStockInline(ScopedInlineMixin, admin.TabularInline):
    """Stock of the part per storeroom of the planner's sites (read-only; change it in Stock)."""

    model = models.Stock
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("storeroom", "on_hand", "reserved", "reorder_point", "bin")
    readonly_fields = fields
    verbose_name_plural = "stock per storeroom"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return models.Stock.objects.for_user(request.user).select_related("storeroom__site", "part")


@admin.register(models.Part)
class PartAdmin(
    ServiceSavedAdminMixin, SiteScopedAdminMixin, SpreadsheetImportExportMixin, admin.ModelAdmin
):
    """The spare parts catalogue, with stock per storeroom; CSV/XLSX import and export.

    One part is stocked and costed at every customer's sites, so only superusers write the
    catalogue (and import it); planners read it and export it, and keep their stock (rows,
    reorder points, receipts, counts) on the stock pages.
    """

    planner_permissions = VIEW_ONLY

    resource_classes = [PartResource]
    list_display = ("sku", "name", "unit", "unit_cost", "on_hand_at_my_sites", "low")
    list_filter = (PartLowStockFilter,)
    search_fields = ("sku", "name")
    # The grouped (Sum) queryset drops Meta.ordering: the unique, indexed sku keeps pages stable.
    ordering = ("sku",)
    inlines = (PartStockInline,)

    def get_queryset(self, request):
        visible = models.Storeroom.objects.for_user(request.user).values("id")
        low = models.Stock.objects.low().filter(part=OuterRef("pk"), storeroom__in=visible)
        return (
            super()
            .get_queryset(request)
            .annotate(
                visible_on_hand=Sum("stock__on_hand", filter=Q(stock__storeroom__in=visible)),
                low_somewhere=Exists(low),
            )
        )

    @admin.display(description="low stock", boolean=True, ordering="low_somewhere")
    def low(self, part):
        return part.low_somewhere

    @admin.display(description="on hand (your sites)", ordering="visible_on_hand")
    def on_hand_at_my_sites(self, part):
        return part.visible_on_hand or Decimal("0")


class StockInline(ScopedInlineMixin, admin.TabularInline):
    model = models.Stock
    extra = 0
    can_delete = False
    fields = ("part", "on_hand", "reserved", "reorder_point", "bin")
    readonly_fields = ("on_hand", "reserved")
    autocomplete_fields = ("part",)
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("part")


@admin.register(models.Storeroom)
class StoreroomAdmin(
    ServiceSavedInlinesMixin, ServiceSavedAdminMixin, SiteScopedAdminMixin, admin.ModelAdmin
):
    permissions = NO_DELETE
    inline_services = {
        models.Stock: (services.stock_create, services.stock_update, "stock", "storeroom"),
    }

    def get_readonly_fields(self, request, obj=None):
        return ("site",) if obj else ()  # a storeroom stays at its site (storeroom_update)

    list_display = ("code", "name", "site")
    list_filter = (("site", admin.RelatedOnlyFieldListFilter),)
    list_select_related = ("site",)
    search_fields = ("code", "name", "site__code")
    inlines = (StockInline,)


class LowStockFilter(admin.SimpleListFilter):
    title = "stock level"
    parameter_name = "level"

    def lookups(self, request, model_admin):
        return [("low", "At or below reorder point"), ("ok", "Above reorder point")]

    def queryset(self, request, queryset):
        low = queryset.low()
        if self.value() == "low":
            return low
        if self.value() == "ok":
            return queryset.exclude(pk__in=low.values("pk"))
        return queryset


def movement_value(movement) -> Decimal:
    """A ledger row's value: quantity x unit cost, rounded half-up to cents."""
    return (movement.quantity * movement.unit_cost).quantize(Decimal("0.01"), ROUND_HALF_UP)


class StockQuantitiesForm(forms.Form):
    """One quantity per selected stock row and one reason, for the receive and count actions."""

    reason = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, rows, counting: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        self.fields["reason"].required = counting
        self.fields["reason"].help_text = (
            "Why the count differs (required)." if counting else "Delivery note, order number."
        )
        for stock in rows:
            self.fields[f"qty_{stock.pk}"] = forms.DecimalField(
                max_digits=12,
                decimal_places=3,
                required=False,
                min_value=Decimal("0") if counting else Decimal("0.001"),
                initial=stock.on_hand if counting else None,
            )
            if not counting:
                self.fields[f"cost_{stock.pk}"] = forms.DecimalField(
                    max_digits=14,
                    decimal_places=4,
                    required=False,
                    min_value=Decimal("0"),
                    help_text="Purchase price of one unit (empty: the current average cost).",
                )

    def row_fields(self):
        """(stock, quantity field, unit cost field or None) per selected row."""
        return [
            (
                stock,
                self[f"qty_{stock.pk}"],
                self[f"cost_{stock.pk}"] if f"cost_{stock.pk}" in self.fields else None,
            )
            for stock in self.rows
        ]


@admin.register(models.Stock)
class StockAdmin(ServiceSavedAdminMixin, SiteScopedAdminMixin, admin.ModelAdmin):
    """On hand and reserved change only through the stock services (receive, count)."""

    permissions = NO_DELETE
    list_display = (
        "part",
        "storeroom",
        "on_hand",
        "reserved",
        "available_now",
        "reorder_point",
        "is_low",
        "bin",
        "average_cost",
    )
    list_filter = (
        LowStockFilter,
        ("storeroom__site", admin.RelatedOnlyFieldListFilter),
        ("storeroom", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ("part", "storeroom__site")
    search_fields = ("part__sku", "part__name", "bin")
    autocomplete_fields = ("part",)
    actions = ("receive_stock", "count_stock")
    fields = (
        "part",
        "storeroom",
        "on_hand",
        "reserved",
        "average_cost",
        "reorder_point",
        "bin",
        "ledger",
    )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ("on_hand", "reserved", "average_cost", "ledger")
        return ("part", "storeroom", "on_hand", "reserved", "average_cost", "ledger")

    @admin.display(description="available")
    def available_now(self, stock):
        return stock.available

    @admin.display(description="low", boolean=True)
    def is_low(self, stock):
        return stock.on_hand <= stock.reserved + stock.reorder_point

    @admin.display(description="recent movements")
    def ledger(self, stock):
        if not stock.pk:
            return "—"
        recent = list(
            stock.movements.select_related("work_order", "created_by").order_by(
                "-created_at", "-id"
            )[:20]
        )
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
            "<td>{}</td></tr>",
            (
                (
                    f"{m.created_at:%Y-%m-%d %H:%M}",
                    m.get_kind_display(),
                    m.quantity,
                    m.on_hand_after,
                    "—" if m.unit_cost is None else m.unit_cost,
                    "—" if m.unit_cost is None else movement_value(m),
                    m.work_order.number if m.work_order else m.reason,
                    m.created_by or "system",
                )
                for m in recent
            ),
        )
        url = reverse("admin:assets_stockmovement_changelist") + f"?stock__id__exact={stock.pk}"
        return format_html(
            "<table><tr><th>when</th><th>kind</th><th>qty</th><th>on hand after</th>"
            "<th>unit cost</th><th>value</th><th>work order / reason</th><th>by</th></tr>{}</table>"
            '<p><a href="{}">Whole ledger of this stock</a></p>',
            rows,
            url,
        )

    @admin.action(description="Receive stock into the selected rows", permissions=["change"])
    def receive_stock(self, request, queryset):
        return self._quantities_action(request, queryset, counting=False)

    @admin.action(description="Count (adjust) the selected rows", permissions=["change"])
    def count_stock(self, request, queryset):
        return self._quantities_action(request, queryset, counting=True)

    def _quantities_action(self, request, queryset, *, counting: bool):
        rows = list(queryset.select_related("part", "storeroom__site").order_by("pk"))
        data = request.POST if "apply" in request.POST else None
        form = StockQuantitiesForm(data, rows=rows, counting=counting)
        if form.is_bound and form.is_valid():
            self._apply_quantities(request, form, counting=counting)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Count stock" if counting else "Receive stock",
            "opts": self.model._meta,
            "form": form,
            "counting": counting,
            "action_name": "count_stock" if counting else "receive_stock",
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/assets/stock/quantities.html", context)

    def _apply_quantities(self, request, form, *, counting: bool):
        reason = form.cleaned_data["reason"]
        done, refused, unchanged = [], [], 0
        for stock, field, cost_field in form.row_fields():
            quantity = form.cleaned_data[field.name]
            if quantity is None:
                continue
            try:
                if counting:
                    movement = services.stock_adjust(
                        stock=stock, counted=quantity, by=request.user, reason=reason
                    )
                else:
                    movement = services.stock_receive(
                        stock=stock,
                        quantity=quantity,
                        by=request.user,
                        reason=reason,
                        unit_cost=form.cleaned_data[cost_field.name],
                    )
            except SERVICE_ERRORS as error:
                refused.append((str(stock), service_error_messages(error)))
                continue
            if movement is None:
                unchanged += 1
            else:
                done.append(f"{stock} {movement.quantity:+} → {movement.on_hand_after}")
        self.report_per_row(
            request, done=done, refused=refused, verb="Counted" if counting else "Received"
        )
        if unchanged:
            self.message_user(request, f"{unchanged} counted as already on hand; no movement.")


@admin.register(models.StockMovement)
class StockMovementAdmin(SiteScopedAdminMixin, admin.ModelAdmin):
    """The stock ledger: read-only; rows are written by the stock services."""

    permissions = VIEW_ONLY
    list_display = (
        "created_at",
        "stock",
        "kind",
        "quantity",
        "on_hand_after",
        "unit_cost",
        "value",
        "work_order",
        "reason",
        "created_by",
    )

    @admin.display(description="value")
    def value(self, movement):
        return "—" if movement.unit_cost is None else movement_value(movement)

    list_filter = (
        "kind",
        ("stock__storeroom__site", admin.RelatedOnlyFieldListFilter),
        ("created_at", admin.DateFieldListFilter),
    )
    list_select_related = ("stock__part", "stock__storeroom__site", "work_order", "created_by")
    search_fields = ("stock__part__sku", "stock__part__name", "work_order__number", "reason")
