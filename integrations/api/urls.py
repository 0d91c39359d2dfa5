"""The integrations app's /api/v1/ routes, on the core router (`cmms.api.routers`) once imported."""

from cmms.api.routers import router
from integrations.api import views

router.register("webhook-endpoints", views.WebhookEndpointViewSet, basename="webhook-endpoint")
