"""The pipeline app's /api/v1/ routes, on the core router (`cmms.api.routers`) once imported."""

from cmms.api.routers import router
from pipeline.api import views

router.register("job-plans", views.JobPlanViewSet, basename="job-plan")
router.register("alert-rules", views.AlertRuleViewSet, basename="alert-rule")
