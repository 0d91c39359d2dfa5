"""Fleet webhook routes, mounted at /hooks/v1/."""

from django.urls import path

from fleet import views

app_name = "fleet-hooks"

urlpatterns = [
    # str, not uuid: a malformed id answers 401 like an unknown one, not 404.
    path("gateways/<str:gateway_id>/heartbeat", views.gateway_heartbeat, name="gateway-heartbeat"),
]
