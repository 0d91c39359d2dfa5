from django.conf import settings
from django.db import models

from audit.choices import AuditAction
from cmms.fields import optional_foreign_key
from cmms.scoping import SiteScopedQuerySet


class AuditEntryQuerySet(SiteScopedQuerySet):
    def visible_to(self, user):
        """Entries of the user's sites: their `site`, or one of the `sites` a shared object's
        change concerns (a job plan used at several sites)."""
        mine = user.sites.values("id")
        shared = self.model.sites.through.objects.filter(site__in=mine)
        return self.filter(models.Q(site__in=mine) | models.Q(pk__in=shared.values("auditentry")))


class AuditEntry(models.Model):
    """One change to something sensitive (gateway secrets, alert rules, job plans, inspection
    routes, isolation points): who, when, what. Append-only. Secrets never appear in
    `changes`, only their fingerprints.

    Planners see an entry when its `site`, or one of its `sites`, is theirs: a site-owned
    object names its site; a shared one (a customer's or a global job plan) names every site
    that uses it at the time of the change.

    Work orders and stock keep their own ledgers (`StatusChange`, `WorkOrderEvent`,
    `StockMovement.created_by`); this trail covers what has none.
    """

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = optional_foreign_key(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty for changes made by the system (tasks, management commands).",
    )
    actor_name = models.CharField(max_length=150, blank=True, help_text="Kept if the user goes.")
    action = models.CharField(max_length=40, choices=AuditAction.choices)
    object_type = models.CharField(max_length=100, help_text="app_label.model")
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200)
    site = models.ForeignKey(
        "assets.Site", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sites = models.ManyToManyField(
        "assets.Site",
        blank=True,
        related_name="+",
        help_text="A shared object's change: the sites that use it, whose planners see it.",
    )
    changes = models.JSONField(default=dict, blank=True)

    site_lookup = "site"
    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
            models.Index(fields=["site", "-created_at"], name="audit_site_recent"),
        ]

    def __str__(self):
        who = self.actor_name or "system"
        return f"{self.created_at:%Y-%m-%d %H:%M} {who} {self.action} {self.object_repr}"
