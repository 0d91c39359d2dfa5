"""The gateways app's /api/v1/ routes, on the core router (`cmms.api.routers`) once imported."""

from cmms.api.routers import router
from gateways.api import views

router.register("gateways", views.GatewayViewSet, basename="gateway")
router.register("sensors", views.SensorViewSet, basename="sensor")
