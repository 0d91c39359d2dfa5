"""The assets app's /api/v1/ routes, on the core router (`cmms.api.routers`) once imported."""

from assets.api import views
from cmms.api.routers import router

router.register("customers", views.CustomerViewSet)
router.register("sites", views.SiteViewSet)
router.register("equipment-classes", views.EquipmentClassViewSet)
router.register("assets", views.AssetViewSet)
router.register("meters", views.MeterViewSet)
router.register("parts", views.PartViewSet)
router.register("storerooms", views.StoreroomViewSet)
router.register("stock", views.StockViewSet)
router.register("stock-movements", views.StockMovementViewSet)
