"""CSV/XLSX export (django-import-export) of the work order list for the planners' admin."""

from import_export import fields

from cmms.spreadsheets import SpreadsheetResource
from workorders.models import WorkOrder

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


class WorkOrderResource(SpreadsheetResource):
    """Export of the filtered work order list (the columns a planner reports on)."""

    site = fields.Field("site__code", "site")
    asset = fields.Field("asset__tag", "asset")
    assignee = fields.Field("assignee__username", "assignee")

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
        )
        export_order = fields
