"""`/reports/billing/` and `/reports/costs/`: the planners' billing export and cost roll-up,
behind the admin's login and permission check (planners and superusers only)."""

from django.contrib import admin
from django.urls import path

from reports import billing_views, cost_views

urlpatterns = [
    path("billing/", admin.site.admin_view(billing_views.billing_export), name="billing-export"),
    path("costs/", admin.site.admin_view(cost_views.cost_rollup), name="cost-rollup"),
]
