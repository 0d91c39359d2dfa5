from alerts.api import views


def register(router):
    router.register("gateways", views.GatewayViewSet, basename="gateway")
    router.register("alerts", views.AlertViewSet, basename="alert")
