from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Now
from django.utils import timezone
from knox.models import AbstractAuthToken

from cmms.roles import Role


class Skill(models.Model):
    """A trade or qualification a technician holds (mechanical, electrical, vibration, ...)."""

    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return self.code


class User(AbstractUser):
    """A person using the CMMS: planner, technician or customer viewer, scoped to sites."""

    sync_resource = "users"

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.TECHNICIAN)
    sites = models.ManyToManyField("assets.Site", blank=True, related_name="users")
    skills = models.ManyToManyField(Skill, blank=True, related_name="users")
    available_hours_per_day = models.DecimalField(max_digits=4, decimal_places=1, default=8)
    # Moves on every write, `last_login` included (sync/triggers.py); docs/sync.md.
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        indexes = [
            models.Index(fields=["role"]),
            models.Index(fields=["updated_at", "id"], name="user_sync"),
        ]

    @property
    def is_planner(self) -> bool:
        """Superusers act as planners everywhere."""
        return self.is_superuser or self.role == Role.PLANNER

    @property
    def is_technician(self) -> bool:
        return self.role == Role.TECHNICIAN and not self.is_superuser

    @property
    def is_customer_viewer(self) -> bool:
        return self.role == Role.CUSTOMER_VIEWER and not self.is_superuser

    def site_ids(self) -> set[int] | None:
        """Ids of the sites this user may see, or None for all (superusers). Cached per instance."""
        if self.is_superuser:
            return None
        if not hasattr(self, "_site_ids"):
            self._site_ids = set(self.sites.values_list("id", flat=True))
        return self._site_ids

    def tombstone_site_ids(self) -> list[int]:
        """One tombstone per site of the account: its planners are who saw it."""
        return list(self.sites.values_list("id", flat=True))

    def may_see_site(self, site_id: int) -> bool:
        ids = self.site_ids()
        return ids is None or site_id in ids


class ApiToken(AbstractAuthToken):
    """One user's API token for one device or integration (`Authorization: Token <key>`).

    Stored as a SHA-512 digest by django-rest-knox (the key is shown once, when issued, and
    cannot be read back), with an optional expiry; revoking a token deletes its row, so a lost
    phone's token stops working while the user's other devices carry on.
    """

    id = models.BigAutoField(primary_key=True)
    digest = models.CharField(max_length=128, unique=True)
    name = models.CharField(max_length=100, help_text="The device or integration it is for.")

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self):
        return f"{self.user} / {self.name}"

    @property
    def is_expired(self) -> bool:
        return self.expiry is not None and self.expiry <= timezone.now()
