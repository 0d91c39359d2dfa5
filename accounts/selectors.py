"""Reads of users that are more than a filter: who may see whom."""

from django.db.models import QuerySet

from accounts.models import User
from cmms.scoping import visible_users


def user_list(*, viewer) -> QuerySet[User]:
    """The users `viewer` may see: everyone for superusers; for planners, the non-superusers
    who share at least one site with them (`cmms.scoping.visible_users`); for everyone else,
    only themselves. Which of them a planner may change is `policy.user_management_refusal`.
    """
    if not viewer or not viewer.is_authenticated:
        return User.objects.none()
    if viewer.is_planner:
        return visible_users(viewer)
    return User.objects.filter(pk=viewer.pk)
