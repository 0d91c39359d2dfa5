from pm.api import views


def register(router):
    router.register("pm-plans", views.PMPlanViewSet, basename="pm-plan")
    router.register("pm-occurrences", views.PMOccurrenceViewSet, basename="pm-occurrence")
    router.register("meter-readings", views.MeterReadingViewSet, basename="meter-reading")
    router.register("meter-resets", views.MeterResetViewSet, basename="meter-reset")
