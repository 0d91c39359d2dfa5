"""The workorders app's /api/v1/ routes, on the core router (`cmms.api.routers`) once imported."""

from cmms.api.routers import router
from workorders.api import costs as costs_api
from workorders.api import views

router.register("work-orders", views.WorkOrderViewSet)
router.register("failure-codes", views.FailureCodeViewSet)
router.register("costs", costs_api.CostViewSet, basename="cost")
