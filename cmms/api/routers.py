"""The one /api/v1/ router; each app's `api/urls.py` registers its viewsets on it.

Like `admin.site`: the core owns the registry and knows no app. `cmms.api.urls` imports every
installed app's `api.urls` (in INSTALLED_APPS order, which is the API root's order), so an
app's routes exist once its module has been imported.
"""

from rest_framework.routers import DefaultRouter

router = DefaultRouter()
