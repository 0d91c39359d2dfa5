from django.conf import settings
from django.db import models
from django.utils import timezone

from cmms.scoping import UserScopedQuerySet

# Resources only planners list (`/api/v1/users/`): their tombstones too. A deleted user
# without any site was seen by superusers only, so its (global) tombstone is too.
PLANNER_RESOURCES = frozenset({"users"})


class TombstoneQuerySet(UserScopedQuerySet):
    def visible_to(self, user):
        """Tombstones of the user's sites, and the global ones (catalogue rows such as parts),
        of the resources the user may list."""
        mine = models.Q(site__in=user.sites.values("id"))
        shared = models.Q(site__isnull=True) & ~models.Q(resource__in=PLANNER_RESOURCES)
        rows = self.filter(mine | shared)
        return rows if user.is_planner else rows.exclude(resource__in=PLANNER_RESOURCES)


class Tombstone(models.Model):
    """A row that was really deleted, kept so a client mirroring a resource learns of it.

    Written in the transaction of the delete (`sync.receivers`). A row seen at several sites
    (a user, a customer's job plan) leaves one tombstone per site, so each site's people see
    exactly the deletions of what they could see. Pruned after `SYNC_TOMBSTONE_RETENTION_DAYS`.
    """

    resource = models.CharField(max_length=50, help_text="The API resource: parts, pm-plans, ...")
    object_id = models.BigIntegerField()
    site = models.ForeignKey(
        "assets.Site",
        null=True,
        blank=True,
        on_delete=models.CASCADE,  # never SET_NULL: a site's tombstone must not become global
        related_name="+",
        help_text="Empty for global catalogue rows (parts).",
    )
    deleted_at = models.DateTimeField(default=timezone.now)

    objects = TombstoneQuerySet.as_manager()

    class Meta:
        ordering = ["deleted_at", "id"]
        indexes = [
            models.Index(fields=["deleted_at", "id"], name="tombstone_sync"),
            models.Index(fields=["resource", "deleted_at", "id"], name="tombstone_resource_sync"),
        ]

    def __str__(self):
        return f"{self.resource}/{self.object_id} deleted {self.deleted_at:%Y-%m-%d %H:%M}"


class IdempotencyKey(models.Model):
    """One `Idempotency-Key` a user sent, with the answer its request got (sync.idempotency).

    Inserted in the transaction of the action it guards, so the key exists exactly when the
    action's effects do; the unique (user, key) makes a concurrent retry wait for that
    transaction and then replay the stored answer. Purged after `IDEMPOTENCY_KEY_TTL_HOURS`.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.TextField()
    fingerprint = models.CharField(
        max_length=64, help_text="SHA-256 of the method, path, content type and body."
    )
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    response_content_type = models.CharField(max_length=255, blank=True)
    response_location = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user")
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_key_created")]

    def __str__(self):
        return f"{self.key} ({self.method} {self.path})"
