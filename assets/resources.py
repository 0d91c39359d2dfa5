"""CSV/XLSX import and export (django-import-export) of assets and parts for the planners' admin.

Imports show a preview with per-row errors before anything is saved (the dry run rolls back).
Asset rows are written through `asset_create`/`asset_update`, so the hierarchy's materialised
paths are right, and every lookup is limited to the importing planner's sites.
"""

from django.core.exceptions import ValidationError
from import_export import fields

from assets import services as asset_services
from assets.models import Asset, EquipmentClass, Part, Site
from cmms.spreadsheets import LookupWidget, NumberWidget, SpreadsheetResource


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
        fields = asset_services.ASSET_FIELDS
        export_order = asset_services.ASSET_FIELDS
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
        values = {name: getattr(instance, name) for name in asset_services.ASSET_FIELDS}
        if is_create:
            saved = asset_services.asset_create(**values)
        else:
            fresh = Asset.objects.get(pk=instance.pk)
            values.pop("site")
            saved = asset_services.asset_update(asset=fresh, **values)
        instance.pk, instance.path, instance.depth = saved.pk, saved.path, saved.depth


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
