"""`/reports/billing/`: the planners' billing export, behind the admin's login and permission."""

from django.contrib import admin
from django.urls import path

from reports import billing_views

urlpatterns = [
    path("", admin.site.admin_view(billing_views.billing_export), name="billing-export"),
]
