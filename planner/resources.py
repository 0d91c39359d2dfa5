"""CSV/XLSX import and export (django-import-export) for the planners' admin.

Imports show a preview with per-row errors before anything is saved (the dry run rolls back).
Asset rows are written through `asset_create`/`asset_update`, so the hierarchy's materialised
paths are right, and every lookup is limited to the importing planner's sites.
"""

from decimal import InvalidOperation

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from import_export import fields
from import_export.widgets import DecimalWidget, ForeignKeyWidget

from assets import services as asset_services
from assets.models import Asset, EquipmentClass, Part, Site
from cmms.spreadsheets import SpreadsheetResource
from workorders.models import WorkOrder

ASSET_COLUMNS = (
    "site",
    "tag",
    "name",
    "parent",
    "level",
    "equipment_class",
    "criticality",
    "state",
    "manufacturer",
    "model",
    "serial_number",
    "installed_on",
)


class LookupWidget(ForeignKeyWidget):
    """A foreign key by a code, limited to what the importing user may see, with a clear error."""

    noun = "row"

    def scoped(self, row, user):
        manager = self.model.objects
        return (
            manager.for_user(user)
            if user is not None and hasattr(manager, "for_user")
            else manager.all()
        )

    def get_queryset(self, value, row, *args, **kwargs):
        return self.scoped(row, kwargs.get("user"))

    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(value, row, **kwargs)
        except ObjectDoesNotExist:
            raise ValueError(f"no {self.noun} {value!r}{self.where(row)}") from None

    def where(self, row) -> str:
        return ""


class SiteWidget(LookupWidget):
    noun = "site"

    def where(self, row):
        return " among your sites"


class ParentWidget(LookupWidget):
    """The parent asset by tag within the row's site (a tag is unique per site only)."""

    noun = "asset"

    def scoped(self, row, user):
        return super().scoped(row, user).filter(site__code=(row or {}).get("site"))

    def where(self, row):
        return f" at site {(row or {}).get('site')!r} (parents come before their children)"


class EquipmentClassWidget(LookupWidget):
    noun = "equipment class"


class AssetResource(SpreadsheetResource):
    """Assets by (site code, tag): new tags are created, known ones updated."""

    site = fields.Field("site", "site", SiteWidget(Site, "code"))
    parent = fields.Field("parent", "parent", ParentWidget(Asset, "tag"))
    equipment_class = fields.Field(
        "equipment_class", "equipment_class", EquipmentClassWidget(EquipmentClass, "code")
    )

    class Meta:
        model = Asset
        fields = ASSET_COLUMNS
        export_order = ASSET_COLUMNS
        import_id_fields = ("site", "tag")
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        use_transactions = True

    def before_import(self, dataset, **kwargs):
        self.user = kwargs.get("user", self.user)

    def get_queryset(self):
        assets = Asset.objects.select_related("site", "parent", "equipment_class")
        return assets.for_user(self.user) if self.user is not None else assets

    def get_instance(self, instance_loader, row):
        """The asset of this site and tag, if the importing user may see it."""
        return self.get_queryset().filter(site__code=row.get("site"), tag=row.get("tag")).first()

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        # Path and depth are the service's to compute; skip them here, keep every other check.
        errors = dict(import_validation_errors or {})
        try:
            instance.full_clean(exclude=[*errors, "path", "depth"], validate_unique=validate_unique)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def save_instance(self, instance, is_create, row, **kwargs):
        values = {name: getattr(instance, name) for name in ASSET_COLUMNS}
        if is_create:
            saved = asset_services.asset_create(**values)
        else:
            fresh = Asset.objects.get(pk=instance.pk)
            values.pop("site")
            saved = asset_services.asset_update(asset=fresh, **values)
        instance.pk, instance.path, instance.depth = saved.pk, saved.path, saved.depth


class NumberWidget(DecimalWidget):
    """A decimal; text that is not a number is that row's error on that field."""

    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(value, row, **kwargs)
        except (InvalidOperation, ValueError):
            raise ValueError(f"{value!r} is not a number") from None


class PartResource(SpreadsheetResource):
    """Spare parts by SKU (a global catalogue): new SKUs are created, known ones updated."""

    unit_cost = fields.Field("unit_cost", "unit_cost", NumberWidget())

    class Meta:
        model = Part
        fields = ("sku", "name", "unit", "unit_cost")
        export_order = ("sku", "name", "unit", "unit_cost")
        import_id_fields = ("sku",)
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        use_transactions = True


class WorkOrderResource(SpreadsheetResource):
    """Export of the filtered work order list (the columns a planner reports on)."""

    site = fields.Field("site__code", "site")
    asset = fields.Field("asset__tag", "asset")
    assignee = fields.Field("assignee__username", "assignee")

    class Meta:
        model = WorkOrder
        fields = (
            "number",
            "title",
            "site",
            "asset",
            "status",
            "priority",
            "type",
            "source",
            "assignee",
            "created_at",
            "scheduled_start",
            "due_at",
            "started_at",
            "completed_at",
            "estimated_hours",
            "actual_hours",
            "waiting_for_parts",
        )
        export_order = fields
