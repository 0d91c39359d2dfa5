from alerts.api import views


def register(router):
    router.register("alerts", views.AlertViewSet, basename="alert")
