"""Reads of users that are more than a filter: who may see (and manage) whom."""

from django.db.models import QuerySet

from accounts.models import User


def user_list(*, viewer) -> QuerySet[User]:
    """The users `viewer` may see: everyone for superusers; for planners, the non-superusers
    who share at least one site with them; for everyone else, only themselves.
    """
    if not viewer or not viewer.is_authenticated:
        return User.objects.none()
    if viewer.is_superuser:
        return User.objects.all()
    if viewer.is_planner:
        colleagues = User.sites.through.objects.filter(
            site_id__in=viewer.sites.values("id")
        ).values("user_id")
        return User.objects.filter(pk__in=colleagues, is_superuser=False)
    return User.objects.filter(pk=viewer.pk)
