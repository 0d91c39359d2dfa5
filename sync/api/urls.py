"""The sync app's /api/v1/ routes, on the core router (`cmms.api.routers`) once imported."""

from cmms.api.routers import router
from sync.api import views

router.register("deletions", views.TombstoneViewSet, basename="deletion")
