from workorders.api import views


def register(router):
    router.register("work-orders", views.WorkOrderViewSet)
    router.register("failure-codes", views.FailureCodeViewSet)
