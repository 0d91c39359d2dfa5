from django.contrib import admin

from cmms.admin import VIEW_ONLY, SiteScopedAdminMixin
from mqtt.models import RejectedMessage


@admin.register(RejectedMessage)
class RejectedMessageAdmin(SiteScopedAdminMixin, admin.ModelAdmin):
    """What the MQTT consumer could not accept, and why, newest first; written by it only.

    Planners see their sites' rows; rows no gateway could be named for are for superusers. The
    excerpt is shown as text and escaped like every admin value.
    """

    permissions = VIEW_ONLY
    list_display = ["received_at", "gateway", "topic", "reason_line", "size", "repeats"]
    list_filter = ["site", ("received_at", admin.DateFieldListFilter)]
    list_select_related = ["gateway"]
    search_fields = ["topic"]
    ordering = ["-received_at", "-id"]
    fields = ["received_at", "site", "gateway", "topic", "qos", "retain", "size", "reason"]
    fields += ["excerpt", "repeats", "last_repeat_at"]

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    @admin.display(description="reason")
    def reason_line(self, message: RejectedMessage) -> str:
        first = message.reason.splitlines()[0] if message.reason else ""
        return first if len(first) <= 120 else first[:119] + "…"
