"""All /api/v1/ routes: each installed app's `api/urls.py` registers on the one router."""

from django.utils.module_loading import autodiscover_modules

from cmms.api.routers import router

autodiscover_modules("api.urls")

urlpatterns = router.urls
