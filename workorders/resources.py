"""CSV/XLSX export (django-import-export) of the work order list for the planners' admin."""

from django.db.models import OuterRef, Subquery
from import_export import fields, widgets

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
    # Annotated by `export` (the current signature of each role); the dates are rendered as
    # the model's date columns are: local time, and no time zone in an XLSX cell.
    technician_signed_by = fields.Field("technician_signed_by", "Technician signed by")
    technician_signed_at = fields.Field(
        "technician_signed_at", "Technician signed at", widget=widgets.DateTimeWidget()
    )
    client_signed_by = fields.Field("client_signed_by", "Client signed by")
    client_signed_at = fields.Field(
        "client_signed_at", "Client signed at", widget=widgets.DateTimeWidget()
    )

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
        """Who signed the current completion off and when, in the rows' own query."""
        columns = {}
        for role in SignatureRole.values:
            current = Signature.objects.filter(
                work_order=OuterRef("pk"), role=role, superseded_at__isnull=True
            )
            columns[f"{role}_signed_by"] = Subquery(current.values("signer_name")[:1])
            columns[f"{role}_signed_at"] = Subquery(current.values("signed_at")[:1])
        queryset = (self.get_queryset() if queryset is None else queryset).annotate(**columns)
        return super().export(queryset=queryset, **kwargs)
