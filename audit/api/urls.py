"""The audit app's /api/v1/ routes, on the core router (`cmms.api.routers`) once imported."""

from audit.api import views
from cmms.api.routers import router

router.register("audit", views.AuditEntryViewSet, basename="audit-entry")
