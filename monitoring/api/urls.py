"""The monitoring app's /api/v1/ routes, on the core router (`cmms.api.routers`) once imported."""

from cmms.api.routers import router
from monitoring.api import views

# The asset's `measurements/` route: its series are the monitoring app's to serve.
router.register(
    r"assets/(?P<pk>[^/.]+)/measurements",
    views.AssetMeasurementViewSet,
    basename="asset-measurements",
)
router.register(
    r"monitored-measurements", views.MonitoredMeasurementViewSet, basename="monitored-measurement"
)
