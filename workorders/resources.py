"""CSV/XLSX export (django-import-export) of the work order list for the planners' admin."""

from django.db.models import Prefetch
from import_export import fields

from cmms.spreadsheets import SpreadsheetResource
from workorders.choices import SignatureRole
from workorders.models import Signature, WorkOrder

# What says which work order a row is and where it stands: the admin list starts with these too.
SUMMARY_COLUMNS = (
    "number",
    "title",
    "site",
    "asset",
    "status",
    "priority",
    "type",
    "source",
    "assignee",
)
SIGNATURE_COLUMNS = (
    "technician_signed_by",
    "technician_signed_at",
    "client_signed_by",
    "client_signed_at",
)


class WorkOrderResource(SpreadsheetResource):
    """Export of the filtered work order list (the columns a planner reports on), with who
    signed the current completion off and when (docs/sign-off.md)."""

    site = fields.Field("site__code", "site")
    asset = fields.Field("asset__tag", "asset")
    assignee = fields.Field("assignee__username", "assignee")
    technician_signed_by = fields.Field(column_name="Technician signed by")
    technician_signed_at = fields.Field(column_name="Technician signed at")
    client_signed_by = fields.Field(column_name="Client signed by")
    client_signed_at = fields.Field(column_name="Client signed at")

    class Meta:
        model = WorkOrder
        fields = (
            *SUMMARY_COLUMNS,
            "created_at",
            "scheduled_start",
            "due_at",
            "started_at",
            "completed_at",
            "estimated_hours",
            "actual_hours",
            "waiting_for_parts",
            *SIGNATURE_COLUMNS,
        )
        export_order = fields

    def export(self, queryset=None, **kwargs):
        """The current signatures come in one query per page of rows, not one per row."""
        if queryset is not None:
            queryset = queryset.prefetch_related(
                Prefetch(
                    "signatures",
                    queryset=Signature.objects.filter(superseded_at__isnull=True),
                    to_attr="current_signatures",
                )
            )
        return super().export(queryset=queryset, **kwargs)

    @staticmethod
    def _signature(work_order, role: str):
        current = getattr(work_order, "current_signatures", None)
        if current is None:
            current = work_order.signatures.filter(superseded_at__isnull=True)
        return next((s for s in current if s.role == role), None)

    def dehydrate_technician_signed_by(self, work_order):
        signature = self._signature(work_order, SignatureRole.TECHNICIAN)
        return signature.signer_name if signature else ""

    def dehydrate_technician_signed_at(self, work_order):
        signature = self._signature(work_order, SignatureRole.TECHNICIAN)
        return signature.signed_at if signature else None

    def dehydrate_client_signed_by(self, work_order):
        signature = self._signature(work_order, SignatureRole.CLIENT)
        return signature.signer_name if signature else ""

    def dehydrate_client_signed_at(self, work_order):
        signature = self._signature(work_order, SignatureRole.CLIENT)
        return signature.signed_at if signature else None
