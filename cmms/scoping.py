"""Site scoping: the one place where "which rows may this user see" is decided.

A site is the tenancy boundary. Every model that belongs to a site names the lookup
to its site in `site_lookup` and uses `SiteScopedQuerySet`; views, admin and API call
`Model.objects.for_user(user)` and never filter by site themselves.

Everything a user is offered to pick or filter by (admin list filters and form choices, API
filter choices) comes from `scoped_choices`, so a choice list never names another site's row.
"""

from django.contrib.auth import get_user_model
from django.db import models


class SiteScopedQuerySet(models.QuerySet):
    def for_user(self, user):
        """Rows of the sites the user may see; everything for superusers; nothing for anonymous."""
        if not user or not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        lookup = self.model.site_lookup
        return self.filter(**{f"{lookup}__in": user.sites.values("id")})


def visible_users(user) -> models.QuerySet:
    """People the given user may see: everyone for superusers; otherwise the non-superusers
    who share at least one site with them. A user without any site is seen by superusers only.
    """
    users = get_user_model().objects.all()
    if not user or not user.is_authenticated:
        return users.none()
    if user.is_superuser:
        return users
    memberships = users.model.sites.through.objects.filter(site__in=user.sites.values("id"))
    return users.filter(pk__in=memberships.values("user_id"), is_superuser=False)


def scoped_choices(model: type[models.Model], user) -> models.QuerySet | None:
    """The rows of `model` the user may pick or filter by, or None when the model is not
    scoped (global catalogues: parts, skills, equipment classes, failure codes).
    """
    if model is get_user_model():
        return visible_users(user)
    manager = model._default_manager
    if hasattr(manager, "for_user"):
        return manager.for_user(user)
    return None
