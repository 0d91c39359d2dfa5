from django.conf import settings
from django.db import models

from audit.choices import AuditAction
from cmms.scoping import SiteScopedQuerySet


class AuditEntry(models.Model):
    """One change to something sensitive (gateway secrets, alert rules, job plans): who, when,
    what. Append-only. Secrets never appear in `changes`, only their fingerprints.

    Work orders and stock keep their own ledgers (`StatusChange`, `WorkOrderEvent`,
    `StockMovement.created_by`); this trail covers what has none.
    """

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
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
    changes = models.JSONField(default=dict, blank=True)

    site_lookup = "site"
    objects = SiteScopedQuerySet.as_manager()

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
