"""The alerts app's /api/v1/ routes, on the core router (`cmms.api.routers`) once imported."""

from alerts.api import views
from cmms.api.routers import router

router.register("alerts", views.AlertViewSet, basename="alert")
# The work order's `alerts/` route: its provenance is the alerts app's to serve.
router.register(
    r"work-orders/(?P<pk>[^/.]+)/alerts",
    views.WorkOrderAlertViewSet,
    basename="workorder-alerts",
)
