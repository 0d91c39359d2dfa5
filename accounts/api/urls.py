"""The accounts app's /api/v1/ routes, on the core router (`cmms.api.routers`) once imported."""

from accounts.api import views
from cmms.api.routers import router

router.register("users", views.UserViewSet, basename="user")
router.register("api-tokens", views.ApiTokenViewSet, basename="api-token")
