from django.contrib import admin
from django.db.models import Prefetch

from audit.models import AuditEntry
from cmms.admin import VIEW_ONLY, SiteScopedAdminMixin


@admin.register(AuditEntry)
class AuditEntryAdmin(SiteScopedAdminMixin, admin.ModelAdmin):
    """The audit trail, read-only; planners see the entries of their sites, including changes
    to shared objects (job plans) that their sites use."""

    permissions = VIEW_ONLY
    list_display = ["created_at", "actor_name", "action", "object_repr", "site", "used_at"]
    list_filter = ["action", "object_type", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["object_repr", "object_id", "actor_name"]
    list_select_related = ["site"]
    fields = [
        "created_at",
        "actor_name",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "site",
        "used_at",
        "changes",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        # Never name another customer's sites. (The audit trail sits below the asset register:
        # every app records into it, so it names sites through its own relation.)
        sites = AuditEntry._meta.get_field("sites").related_model
        mine = sites.objects.for_user(request.user)
        return super().get_queryset(request).prefetch_related(Prefetch("sites", queryset=mine))

    @admin.display(description="used at")
    def used_at(self, entry):
        """The sites (of the planner's own) that use the shared object the entry is about."""
        return ", ".join(site.code for site in entry.sites.all())
