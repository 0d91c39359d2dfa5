"""The admin's AppConfig (in INSTALLED_APPS), naming the planners' site by its dotted path.

A module of its own: Django imports it while loading apps, before any model exists, so it must
not import `planner.admin_site` (models, auth forms); `planner/apps.py` keeps one AppConfig.
"""

from django.contrib.admin.apps import AdminConfig


class CmmsAdminConfig(AdminConfig):
    default_site = "planner.admin_site.CmmsAdminSite"
