"""The pm app's /api/v1/ routes, on the core router (`cmms.api.routers`) once imported."""

from cmms.api.routers import router
from pm.api import views

router.register("pm-plans", views.PMPlanViewSet, basename="pm-plan")
router.register("pm-occurrences", views.PMOccurrenceViewSet, basename="pm-occurrence")
router.register("meter-readings", views.MeterReadingViewSet, basename="meter-reading")
router.register("meter-resets", views.MeterResetViewSet, basename="meter-reset")
router.register("routes", views.RouteViewSet, basename="route")
router.register("round-runs", views.RoundRunViewSet, basename="round-run")
