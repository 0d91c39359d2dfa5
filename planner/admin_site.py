"""The planners' admin site: who may enter, the planner pages inside it, and its index counts.

`CmmsAdminSite` lets in superusers and active staff planners only (`may_use_admin`);
technicians and customer viewers are refused at the login form even when `is_staff` is set.
Django builds it the first time `admin.site` is used (admin autodiscovery, after every model
is loaded), from `CmmsAdminConfig.default_site` in `planner/admin_config.py`.
"""

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from cmms.admin import may_use_admin, selection_checked
from planner.selectors import index_counts
from planner.urls import admin_urls


class PlannerAuthenticationForm(AdminAuthenticationForm):
    """The admin's login form, refusing people who may not use the admin with a reason."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "not_planner": (
            "The admin is for planners. Technicians and customer viewers use the "
            "technician pages and the API."
        ),
    }

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not may_use_admin(user):
            raise ValidationError(self.error_messages["not_planner"], code="not_planner")


class CmmsAdminSite(admin.AdminSite):
    site_header = "CMMS planning"
    site_title = "CMMS planning"
    index_title = "Assets, work and stock"
    login_form = PlannerAuthenticationForm

    def has_permission(self, request):
        return may_use_admin(request.user)

    def get_urls(self):
        return admin_urls(self) + super().get_urls()

    def index(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "planner": index_counts(request.user)}
        return super().index(request, extra_context)

    def admin_view(self, view, cacheable=False):
        return super().admin_view(selection_checked(view), cacheable)
