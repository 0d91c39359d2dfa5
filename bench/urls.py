from django.urls import path

from bench.views import bare_accept
from cmms.urls import urlpatterns as cmms_urlpatterns

urlpatterns = [
    path("bench/bare/<str:gateway_id>/alerts", bare_accept),
    *cmms_urlpatterns,
]
