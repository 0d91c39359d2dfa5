"""Site scoping: the one place where "which rows may this user see" is decided.

A site is the tenancy boundary. Every model that belongs to a site names the lookup
to its site in `site_lookup` and uses `SiteScopedQuerySet`; views, admin and API call
`Model.objects.for_user(user)` and never filter by site themselves.
"""

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
