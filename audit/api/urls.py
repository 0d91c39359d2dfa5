from audit.api import views


def register(router):
    router.register("audit", views.AuditEntryViewSet, basename="audit-entry")
