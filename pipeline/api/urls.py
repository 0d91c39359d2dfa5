from pipeline.api import views


def register(router):
    router.register("job-plans", views.JobPlanViewSet, basename="job-plan")
    router.register("alert-rules", views.AlertRuleViewSet, basename="alert-rule")
