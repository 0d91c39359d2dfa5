"""The contracts app's /api/v1/ routes, on the core router (`cmms.api.routers`) once imported."""

from cmms.api.routers import router
from contracts.api import views

router.register("contracts", views.ContractViewSet)
router.register("business-calendars", views.BusinessCalendarViewSet)
