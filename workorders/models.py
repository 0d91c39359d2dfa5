from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cmms.scoping import SiteScopedQuerySet
from workorders.choices import (
    OPEN_STATUSES,
    EventKind,
    FailureCodeKind,
    Priority,
    Source,
    Status,
    WorkOrderType,
)

User = settings.AUTH_USER_MODEL


class FailureCode(models.Model):
    """A failure reporting code (ISO 14224 / Maximo): failure class, problem, cause or remedy."""

    kind = models.CharField(max_length=10, choices=FailureCodeKind.choices)
    code = models.CharField(max_length=32)
    name = models.CharField(max_length=200)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text="Problems belong to a failure class.",
    )

    class Meta:
        ordering = ["kind", "code"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "code"], name="failure_code_unique_per_kind"),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"


class WorkOrderQuerySet(SiteScopedQuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def overdue(self, now=None):
        return self.open().filter(due_at__lt=now or timezone.now())


class WorkOrder(models.Model):
    """A piece of maintenance work on an asset, moving through the enforced lifecycle.

    Status changes only through `work_order_transition`; every change leaves a
    `StatusChange` row (who, when, from, to).
    """

    site_lookup = "site"

    # NULL only inside the creating transaction, until the id is known.
    number = models.CharField(max_length=20, unique=True, null=True, editable=False)  # noqa: DJ001
    site = models.ForeignKey("assets.Site", on_delete=models.PROTECT, related_name="work_orders")
    asset = models.ForeignKey(
        "assets.Asset", on_delete=models.PROTECT, related_name="work_orders", null=True, blank=True
    )
    type = models.CharField(
        max_length=20, choices=WorkOrderType.choices, default=WorkOrderType.CORRECTIVE
    )
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.MEDIUM)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.REQUESTED)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)

    requested_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="requested_work"
    )
    assignee = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_work"
    )
    required_skill = models.ForeignKey(
        "accounts.Skill", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    scheduled_start = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    estimated_hours = models.DecimalField(
        max_digits=7, decimal_places=2, default=Decimal("0"), blank=True
    )
    actual_hours = models.DecimalField(
        max_digits=7, decimal_places=2, default=Decimal("0"), editable=False
    )
    on_hold_reason = models.CharField(max_length=200, blank=True)
    needs_attention = models.CharField(
        max_length=200, blank=True, help_text="Why a planner should look at this work order."
    )

    problem = models.ForeignKey(
        FailureCode,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": FailureCodeKind.PROBLEM},
    )
    cause = models.ForeignKey(
        FailureCode,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": FailureCodeKind.CAUSE},
    )
    remedy = models.ForeignKey(
        FailureCode,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": FailureCodeKind.REMEDY},
    )

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = WorkOrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["site", "status", "priority"]),
            models.Index(fields=["assignee", "status", "due_at"]),
            models.Index(fields=["asset", "status"]),
            models.Index(fields=["status", "due_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(priority__gte=1) & Q(priority__lte=4), name="work_order_priority_1_to_4"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in Status]), name="work_order_status_valid"
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_at is not None and self.due_at < timezone.now()

    @staticmethod
    def format_number(pk: int) -> str:
        return f"WO-{pk:06d}"


class StatusChange(models.Model):
    """One step of a work order's lifecycle: who moved it, when, from which status to which."""

    site_lookup = "work_order__site"

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Status.choices)
    reason = models.CharField(max_length=500, blank=True)
    changed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL)
    changed_at = models.DateTimeField(default=timezone.now)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        ordering = ["changed_at", "id"]
        indexes = [models.Index(fields=["work_order", "changed_at"])]

    def __str__(self):
        return f"{self.from_status or '-'} -> {self.to_status}"


class WorkOrderEvent(models.Model):
    """A timeline entry that is not a status change: assignment, escalation, note, alert."""

    site_lookup = "work_order__site"

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    message = models.TextField()
    data = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["work_order", "created_at"])]

    def __str__(self):
        return self.message


class ChecklistStep(models.Model):
    """One step of a work order's checklist, ticked with a result or a measured value."""

    site_lookup = "work_order__site"

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    text = models.CharField(max_length=500)
    requires_value = models.BooleanField(default=False)
    unit = models.CharField(max_length=20, blank=True)
    done = models.BooleanField(default=False)
    result = models.CharField(max_length=500, blank=True)
    value = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    done_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL)
    done_at = models.DateTimeField(null=True, blank=True)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        ordering = ["work_order", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["work_order", "position"], name="checklist_step_unique_position"
            ),
        ]

    def __str__(self):
        return f"{self.position}. {self.text}"


class LabourEntry(models.Model):
    """Time a technician spent on a work order; automatic from start/pause/complete or manual."""

    site_lookup = "work_order__site"

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="labour")
    technician = models.ForeignKey(User, on_delete=models.PROTECT, related_name="labour")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    hours = models.DecimalField(max_digits=7, decimal_places=2, default=Decimal("0"))
    automatic = models.BooleanField(default=False)
    note = models.CharField(max_length=500, blank=True)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        ordering = ["work_order", "started_at"]
        verbose_name_plural = "labour entries"
        constraints = [
            models.CheckConstraint(condition=Q(hours__gte=0), name="labour_hours_not_negative"),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="labour_ends_after_start",
            ),
        ]

    def __str__(self):
        return f"{self.technician} {self.hours} h"
