"""Gateway webhook routes of preventive maintenance, mounted at /hooks/v1/."""

from django.urls import path

from pm import views

app_name = "pm-hooks"

urlpatterns = [
    # str, not uuid: a malformed id answers 401 like an unknown one, not 404.
    path("gateways/<str:gateway_id>/readings", views.gateway_readings, name="gateway-readings"),
]
