"""Webhook routes, mounted at /hooks/v1/."""

from django.urls import path

from alerts import views

app_name = "hooks"

urlpatterns = [
    # str, not uuid: a malformed id answers 401 like an unknown one, not 404.
    path("gateways/<str:gateway_id>/alerts", views.gateway_alerts, name="gateway-alerts"),
]
