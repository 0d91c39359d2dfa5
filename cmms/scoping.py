"""Site scoping: the one place where "which rows may this user see" is decided.

A site is the tenancy boundary. Every model that belongs to a site names the lookup
to its site in `site_lookup` and uses `SiteScopedQuerySet`; views, admin and API call
`Model.objects.for_user(user)` and never filter by site themselves.

Everything a user is offered to pick or filter by (admin list filters and form choices, API
filter choices) comes from `scoped_choices`, so a choice list never names another site's row.
"""

from django.contrib.auth import get_user_model
from django.db import models


class UserScopedQuerySet(models.QuerySet):
    """Rows scoped to who is asking: nothing for anonymous, everything for superusers, and for
    everyone else what the model's queryset says in `visible_to`."""

    def for_user(self, user):
        if not user or not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        return self.visible_to(user)

    def visible_to(self, user):
        raise NotImplementedError


class SiteScopedQuerySet(UserScopedQuerySet):
    def visible_to(self, user):
        """Rows of the sites the user may see."""
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


class OwnedQuerySet(UserScopedQuerySet):
    """Shared catalogue rows that belong to a site, to a customer, or to nobody (global).

    The model has nullable `site` and `customer` foreign keys, at most one of them set.

    - Read (`for_user`): global rows, the rows of the customers of the user's sites, and the
      rows of the user's sites. Another site's row answers like a missing one.
    - Usable (`usable_at`): what a rule or plan of a site may refer to: global rows, the site's
      customer's rows and the site's own.
    - Write (`may_own`, below): superusers write everything, and are the only ones who write global
      rows. A planner writes the rows of their sites, and a customer's rows only when they plan
      **all** of that customer's sites: a customer's row is used by every one of its sites, so
      changing it changes work at each of them, and a planner never changes what happens at a
      site they do not hold (the rule for users in issue 12 §1 is the same "all sites" rule).
    """

    def visible_to(self, user):
        mine = user.sites.values("id")
        return self.filter(
            models.Q(site__isnull=True, customer__isnull=True)
            | models.Q(customer__in=user.sites.values("customer"))
            | models.Q(site__in=mine)
        )

    def usable_at(self, site):
        """Rows a rule or plan at `site` may use; `site=None` (every site) may use global rows."""
        shared = models.Q(site__isnull=True, customer__isnull=True)
        if site is None:
            return self.filter(shared)
        return self.filter(shared | models.Q(site=site) | models.Q(customer=site.customer_id))

    def hold(self, pk) -> None:
        """Lock the row until the transaction ends, so it is not deleted meanwhile. Call before
        saving a row that refers to it: the foreign key is checked only at commit, so without
        this a concurrent delete's "is it used?" check would not see the new reference."""
        list(self.select_for_update(no_key=True).filter(pk=pk).values_list("pk", flat=True))


def held_customers(user, model) -> models.QuerySet:
    """Ids of the customers all of whose sites are among the user's sites."""
    site_model = model._meta.get_field("site").related_model
    mine = user.sites.values("id")
    elsewhere = site_model.objects.exclude(id__in=mine).values("customer")
    return site_model.objects.filter(id__in=mine).exclude(customer__in=elsewhere).values("customer")


def may_own(user, *, site_id, customer_id, model) -> bool:
    """Whether `user` (None: the system) may write a row owned by this site or customer."""
    if user is None or user.is_superuser:
        return True
    if not user.is_authenticated or not user.is_active or not user.is_planner:
        return False
    if site_id is not None:
        return user.may_see_site(site_id)
    if customer_id is not None:
        return held_customers(user, model).filter(customer=customer_id).exists()
    return False
