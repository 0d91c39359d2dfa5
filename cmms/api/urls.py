"""All /api/v1/ routes; each app registers its viewsets on the one router."""

from rest_framework.routers import DefaultRouter

from accounts.api.urls import register as register_accounts
from alerts.api.urls import register as register_alerts
from assets.api.urls import register as register_assets
from audit.api.urls import register as register_audit
from gateways.api.urls import register as register_gateways
from pipeline.api.urls import register as register_pipeline
from pm.api.urls import register as register_pm
from workorders.api.urls import register as register_workorders

router = DefaultRouter()
register_accounts(router)
register_assets(router)
register_workorders(router)
register_gateways(router)
register_alerts(router)
register_pipeline(router)
register_pm(router)
register_audit(router)

urlpatterns = router.urls
