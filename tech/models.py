from django.conf import settings
from django.db import models
from django.utils import timezone

from cmms.scoping import SiteScopedQuerySet


def photo_upload_to(instance, filename: str) -> str:
    """Photos are filed per work order under a name the server chooses (never the client's)."""
    return f"work-orders/{instance.work_order_id}/{filename}"


class WorkOrderPhoto(models.Model):
    """A photo a technician took of the job, kept with the configured storage backend.

    Served only through the technician pages, to users who may see the work order's site.
    """

    site_lookup = "work_order__site"

    work_order = models.ForeignKey(
        "workorders.WorkOrder", on_delete=models.CASCADE, related_name="photos"
    )
    step = models.ForeignKey(
        "workorders.ChecklistStep",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="photos",
        help_text="The safety step this photo confirms (e.g. the lock in place), if any.",
    )
    image = models.FileField(upload_to=photo_upload_to, max_length=300)
    content_type = models.CharField(max_length=30)
    size = models.PositiveIntegerField()
    caption = models.CharField(max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)
    # The upload's Idempotency-Key (the offline queue sends one): a replay stores nothing more.
    idempotency_key = models.CharField(max_length=255, blank=True, default="")

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        ordering = ["work_order", "uploaded_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["uploaded_by", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="tech_photo_one_per_idempotency_key",
            )
        ]

    def __str__(self):
        return f"Photo {self.pk} of {self.work_order_id}"
