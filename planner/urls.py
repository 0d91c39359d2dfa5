"""Planner pages, mounted inside the admin site by `CmmsAdminSite.get_urls`."""

from django.urls import path

from planner import health_views, views


def admin_urls(site) -> list:
    """The planner pages behind the admin's own login and permission check."""
    return [
        path("planner/", site.admin_view(views.dashboard), name="planner-dashboard"),
        path("planner/triage/", site.admin_view(views.triage), name="planner-triage"),
        path("planner/dispatch/", site.admin_view(views.dispatch), name="planner-dispatch"),
        path("planner/fleet/", site.admin_view(views.fleet), name="planner-fleet"),
        path("planner/health/", site.admin_view(health_views.asset_health), name="planner-health"),
    ]
