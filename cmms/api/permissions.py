"""Who may write what through the API, by role. Object-level rules live in the services."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from cmms.roles import Role

PLANNERS_ONLY = frozenset({Role.PLANNER})


class RolePermission(BasePermission):
    """Authenticated users read; writes need a role the viewset lists in `write_roles`.

    Viewsets set `write_roles` (default: planners only). Superusers may always write.
    """

    def has_permission(self, request, view):
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if request.method in SAFE_METHODS or user.is_superuser:
            return True
        write_roles = getattr(view, "write_roles", PLANNERS_ONLY)
        action_roles = getattr(view, "action_write_roles", {}).get(getattr(view, "action", None))
        return user.role in (action_roles if action_roles is not None else write_roles)


class IsPlanner(BasePermission):
    """Planners and superusers only (also for reads)."""

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.is_planner)
