from gateways.api import views


def register(router):
    router.register("gateways", views.GatewayViewSet, basename="gateway")
