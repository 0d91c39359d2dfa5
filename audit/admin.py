from django.contrib import admin

from audit.models import AuditEntry
from cmms.admin import SiteScopedAdminMixin


@admin.register(AuditEntry)
class AuditEntryAdmin(SiteScopedAdminMixin, admin.ModelAdmin):
    """The audit trail, read-only; planners see the entries of their sites."""

    permissions = frozenset({"view"})
    list_display = ["created_at", "actor_name", "action", "object_repr", "site"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_repr", "object_id", "actor_name"]
    date_hierarchy = "created_at"
    list_select_related = ["site"]
    fields = [
        "created_at",
        "actor_name",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "site",
        "changes",
    ]
    readonly_fields = fields
