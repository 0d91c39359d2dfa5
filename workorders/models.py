from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Case, CharField, Q, Value, When
from django.db.models.functions import Cast, Concat, LPad
from django.utils import timezone

from cmms.fields import money_field, optional_foreign_key
from cmms.indexes import trigram_index
from cmms.inputs import parse_id
from cmms.scoping import OwnedQuerySet, SiteScopedQuerySet
from contracts.choices import ClientApproval, SlaState
from contracts.sla import sla_state_at, sla_state_expression, state_due_at
from workorders.choices import (
    OPEN_STATUSES,
    SAFETY_STEP_KINDS,
    DeviceIssue,
    EventKind,
    FailureCodeKind,
    HoldReason,
    Priority,
    SignatureRole,
    Source,
    Status,
    StepKind,
    WorkOrderType,
)

User = settings.AUTH_USER_MODEL
JOB_PLAN_NOT_USABLE = (
    "This job plan belongs to another site or customer; choose one of this site, its customer "
    "or every site."
)


class FailureCode(models.Model):
    """A failure reporting code (ISO 14224 / Maximo): failure class, problem, cause or remedy."""

    kind = models.CharField(max_length=10, choices=FailureCodeKind.choices)
    code = models.CharField(max_length=32)
    name = models.CharField(max_length=200)
    parent = optional_foreign_key(
        "self",
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


def failure_code_field(kind: str) -> models.ForeignKey:
    """A work order's optional failure code of one kind (problem, cause or remedy)."""
    return optional_foreign_key(
        FailureCode, on_delete=models.PROTECT, related_name="+", limit_choices_to={"kind": kind}
    )


class WorkOrderQuerySet(SiteScopedQuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def overdue(self, now=None):
        return self.open().filter(due_at__lt=now or timezone.now())

    def in_sla_state(self, state: str, now=None):
        """Work whose SLA state is `state` at `now`, computed in SQL from the stored moments
        (exact at the read, not as old as the last beat run)."""
        expression = sla_state_expression(now or timezone.now())
        return self.alias(sla_state_now=expression).filter(sla_state_now=state)


class WorkOrder(models.Model):
    """A piece of maintenance work on an asset, moving through the enforced lifecycle.

    Status changes only through `work_order_transition`; every change leaves a
    `StatusChange` row (who, when, from, to).
    """

    site_lookup = "site"
    sync_resource = "work-orders"

    # "WO-" + the id padded to 6 digits, computed by the database in the INSERT itself (no
    # second statement); format_number() is the same rule in Python.
    number = models.GeneratedField(
        expression=Case(
            When(
                id__lt=10**6,
                then=Concat(Value("WO-"), LPad(Cast("id", CharField()), 6, Value("0"))),
            ),
            default=Concat(Value("WO-"), Cast("id", CharField())),
        ),
        output_field=CharField(max_length=20),
        db_persist=True,
        unique=True,
    )
    # Indexed by the composite indexes below, which all start with the site.
    site = models.ForeignKey(
        "assets.Site", on_delete=models.PROTECT, related_name="work_orders", db_index=False
    )
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
    hold_reason = models.CharField(
        max_length=20,
        choices=HoldReason.choices,
        blank=True,
        help_text="Why the work is on hold, as a code (contracts pause their clock on some).",
    )
    needs_attention = models.CharField(
        max_length=200, blank=True, help_text="Why a planner should look at this work order."
    )
    waiting_for_parts = models.BooleanField(
        default=False, help_text="Parts of the job plan could not all be reserved."
    )
    job_plan = models.ForeignKey(
        "JobPlan", null=True, blank=True, on_delete=models.SET_NULL, related_name="work_orders"
    )
    pm_plan = models.ForeignKey(
        "pm.PMPlan", null=True, blank=True, on_delete=models.SET_NULL, related_name="work_orders"
    )
    planned_due_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Due date the PM plan set; kept when the due date is moved (PM compliance).",
    )

    # Correlation of condition alerts: at most one open work order per (asset, condition).
    condition = models.CharField(
        max_length=64, blank=True, help_text="Alert condition this work order answers, if any."
    )
    alert_rule = optional_foreign_key(
        "pipeline.AlertRule",
        on_delete=models.SET_NULL,
        related_name="work_orders",
    )
    alert_count = models.PositiveIntegerField(default=0)
    # Work on the IIoT fleet: the gateway (and sensor) it is about and what is wrong, at most
    # one open work order per device and issue.
    gateway = models.ForeignKey(
        "gateways.Gateway",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="work_orders",
        db_index=False,  # work_order_by_gateway, a partial index: most work is not fleet work
    )
    sensor = models.ForeignKey(
        "gateways.Sensor",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="work_orders",
        db_index=False,  # work_order_by_sensor
    )
    device_issue = models.CharField(max_length=20, choices=DeviceIssue.choices, blank=True)
    alert_severity = models.CharField(max_length=10, blank=True)
    first_alert_at = models.DateTimeField(null=True, blank=True)
    last_alert_at = models.DateTimeField(null=True, blank=True)

    problem = failure_code_field(FailureCodeKind.PROBLEM)
    cause = failure_code_field(FailureCodeKind.CAUSE)
    remedy = failure_code_field(FailureCodeKind.REMEDY)

    # The contract the work falls under, found when it is created (contracts.selectors), and
    # its SLA clock (contracts/sla.py): due dates in business time, pushed out by the time
    # spent paused, and the state the clock shows.
    contract = models.ForeignKey(
        "contracts.Contract",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="work_orders",
        db_index=False,  # work_order_by_contract, a partial index
    )
    sla_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    response_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolution_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When each measure turns at risk (the contract's share of its target used), stored beside
    # the due time so the state is exact at any read (contracts.sla.sla_state_expression).
    response_at_risk_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolution_at_risk_at = models.DateTimeField(null=True, blank=True, editable=False)
    sla_paused_since = models.DateTimeField(null=True, blank=True, editable=False)
    sla_paused_seconds = models.PositiveIntegerField(
        default=0, editable=False, help_text="Business seconds the clock stood still so far."
    )
    sla_state = models.CharField(
        max_length=10, choices=SlaState.choices, blank=True, default="", editable=False
    )
    # The cost estimate (customer's currency) and the client's decision when it exceeds the
    # contract's not-to-exceed amount.
    estimated_cost = money_field(
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Estimated cost of the work; above the contract's not-to-exceed amount the "
        "client approves it first.",
    )
    client_approval = models.CharField(
        max_length=10, choices=ClientApproval.choices, blank=True, default="", editable=False
    )
    client_approval_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    client_approval_at = models.DateTimeField(null=True, blank=True, editable=False)
    client_approval_comment = models.CharField(max_length=1000, blank=True, editable=False)
    # Which sign-off signatures completing needs (workorders.signatures), copied at creation from
    # the job plan and the contract so a later change to either does not move the goalposts.
    technician_signature_required = models.BooleanField(default=False)
    client_signature_required = models.BooleanField(default=False)

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = WorkOrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["site", "status", "priority"]),
            models.Index(fields=["updated_at", "id"], name="work_order_sync"),  # docs/sync.md
            # A site's newest work first (the lists' default order) and its overdue work.
            models.Index(fields=["site", "-created_at", "-id"], name="work_order_site_recent"),
            models.Index(fields=["site", "status", "due_at"], name="work_order_site_due"),
            models.Index(fields=["assignee", "status", "due_at"]),
            models.Index(fields=["asset", "status"]),
            models.Index(fields=["status", "due_at"]),
            # The SLA beat (contracts.tasks): open work under a contract by its resolution due.
            models.Index(
                fields=["resolution_due_at"],
                condition=Q(contract__isnull=False, status__in=sorted(OPEN_STATUSES)),
                name="work_order_sla_open",
            ),
            # The customer viewer's "Waiting for your approval" list (tech.selectors).
            models.Index(
                fields=["site", "client_approval_at"],
                condition=Q(client_approval="pending"),
                name="work_order_approval_pending",
            ),
            # Contract reports and attainment: a contract's work by creation.
            models.Index(
                fields=["contract", "created_at"],
                condition=Q(contract__isnull=False),
                name="work_order_by_contract",
            ),
            # The planner dashboard (workorders.selectors): each figure is read from one of these
            # alone (an index-only scan), so all sites over a year never visit the table. The
            # columns a figure reads are key columns, not INCLUDE: SQLite has no INCLUDE.
            models.Index(
                fields=["due_at", "priority", "site"],
                condition=Q(status__in=sorted(OPEN_STATUSES)),
                name="work_order_open_due",
            ),
            models.Index(
                fields=["site", "priority", "created_at"],
                condition=Q(status__in=sorted(OPEN_STATUSES)),
                name="work_order_open_age",
            ),
            models.Index(
                fields=["site", "planned_due_at", "status", "completed_at"],
                condition=Q(source=Source.PM),
                name="work_order_pm_due",
            ),
            models.Index(
                fields=[
                    "site",
                    "created_at",
                    "type",
                    "status",
                    "source",
                    "asset",
                    "started_at",
                    "completed_at",
                ],
                name="work_order_site_created",
            ),
            # The triage queue: requested work, most urgent and newest first, read in order.
            models.Index(
                fields=["priority", "-created_at", "-id"],
                condition=Q(status=Status.REQUESTED),
                name="work_order_requested_queue",
            ),
            models.Index(
                fields=["site", "completed_at", "type", "started_at", "asset"],
                condition=Q(completed_at__isnull=False),
                name="work_order_site_completed",
            ),
            models.Index(
                fields=["gateway", "-created_at"],
                condition=Q(gateway__isnull=False),
                name="work_order_by_gateway",
            ),
            models.Index(
                fields=["sensor", "-created_at"],
                condition=Q(sensor__isnull=False),
                name="work_order_by_sensor",
            ),
            # Free-text search of titles and descriptions, on PostgreSQL.
            trigram_index("title", name="work_order_title_trgm"),
            trigram_index("description", name="work_order_description_trgm"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(priority__gte=1) & Q(priority__lte=4), name="work_order_priority_1_to_4"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in Status]), name="work_order_status_valid"
            ),
            models.UniqueConstraint(
                fields=["asset", "condition"],
                condition=Q(status__in=sorted(OPEN_STATUSES)) & ~Q(condition=""),
                name="one_open_work_order_per_asset_condition",
            ),
            # Fleet work: one open work order per gateway and issue, and per sensor and issue.
            models.UniqueConstraint(
                fields=["gateway", "device_issue"],
                condition=Q(status__in=sorted(OPEN_STATUSES))
                & ~Q(device_issue="")
                & Q(sensor__isnull=True),
                name="one_open_work_order_per_gateway_issue",
            ),
            models.UniqueConstraint(
                fields=["sensor", "device_issue"],
                condition=Q(status__in=sorted(OPEN_STATUSES)) & ~Q(device_issue=""),
                name="one_open_work_order_per_sensor_issue",
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    def get_absolute_url(self) -> str:
        """The technician's page of this work order (links in e-mails and QR flows)."""
        return f"/tech/work-orders/{self.pk}/"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def sla_state_now(self) -> str:
        """The SLA state at this moment (the stored `sla_state` is as of the last write or beat
        run); "" outside a contract."""
        return sla_state_at(self, timezone.now())

    @property
    def sla_paused(self) -> bool:
        """Whether the SLA clock stands still (on hold for a pausing reason, or waiting for
        the client)."""
        return self.sla_paused_since is not None

    @property
    def sla_due_at(self):
        """The due time behind `sla_state_now`: the worse measure's (response or resolution)."""
        return state_due_at(self, timezone.now())

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_at is not None and self.due_at < timezone.now()

    @staticmethod
    def format_number(pk: int) -> str:
        return f"WO-{pk:06d}"

    @classmethod
    def number_typed(cls, text: str) -> str:
        """The number a person means by `text`: "42" is WO-000042; anything else upper-cased.

        Only ids count as digits, so "²" or twenty nines are searched as typed, never int()-ed.
        """
        number = text.strip().upper()
        pk = parse_id(number)
        return number if pk is None else cls.format_number(pk)


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
        indexes = [
            models.Index(fields=["work_order", "changed_at"]),
            models.Index(fields=["changed_at", "id"], name="status_change_order"),  # the journal
            trigram_index("reason", name="status_change_reason_trgm"),  # its search
        ]

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
        indexes = [
            models.Index(fields=["work_order", "created_at"]),
            models.Index(fields=["created_at", "id"], name="work_order_event_order"),  # journal
            trigram_index("message", name="work_order_event_message_trgm"),  # its search
        ]

    def __str__(self):
        return self.message


def signature_upload_to(instance, filename: str) -> str:
    """Signatures are filed beside the work order's photos, under a name the server chooses."""
    return f"work-orders/{instance.work_order_id}/signatures/{filename}"


class Signature(models.Model):
    """A sign-off signature drawn on the phone at completion: the technician's or the client
    representative's, as a PNG kept with the configured storage backend.

    One current signature per role and completion round: signing again supersedes the current
    one, and reopening completed work supersedes them all (kept as history, with
    `superseded_at`), so the next completion needs new ones (workorders.signatures). Served only
    through the technician pages, to users who may see the work order's site.
    """

    site_lookup = "work_order__site"

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="signatures")
    role = models.CharField(max_length=20, choices=SignatureRole.choices)
    signer_name = models.CharField(max_length=200)
    signed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    signed_at = models.DateTimeField(default=timezone.now)
    image = models.FileField(upload_to=signature_upload_to, max_length=300)
    superseded_at = models.DateTimeField(null=True, blank=True)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        ordering = ["work_order", "signed_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["work_order", "role"],
                condition=Q(superseded_at__isnull=True),
                name="signature_one_current_per_role",
            ),
        ]

    def __str__(self):
        return f"{self.get_role_display()} signature of {self.work_order_id} by {self.signer_name}"

    @property
    def is_current(self) -> bool:
        return self.superseded_at is None


class Step(models.Model):
    """What a checklist step asks, the same in a job plan and in the work order it is copied
    to: its place in the list, the instruction, and whether a measured value (in which unit)
    is wanted; a safety step (lockout/tagout, permit to work) is confirmed before the work
    starts, with a photo where `photo_required`."""

    position = models.PositiveSmallIntegerField()
    text = models.CharField(max_length=500)
    requires_value = models.BooleanField(default=False)
    unit = models.CharField(max_length=20, blank=True)
    kind = models.CharField(max_length=10, choices=StepKind.choices, default=StepKind.TASK)
    photo_required = models.BooleanField(
        default=False, help_text="A safety step is confirmed with a photo (e.g. of the lock)."
    )

    # What a planner writes, in the order the admin and the API show it.
    PLANNED_FIELDS = ("position", "text", "kind", "photo_required", "requires_value", "unit")

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.position}. {self.text}"

    def clean(self):
        if self.photo_required and not self.is_safety:
            raise ValidationError(
                {"photo_required": "Only a safety step (lockout/tagout, permit) asks for a photo."}
            )
        if self.requires_value and self.is_safety:
            # A safety step is confirmed (who, when, a photo), not measured: its confirm form
            # has no value, so a measured safety step could never be confirmed.
            raise ValidationError(
                {"requires_value": "A safety step is confirmed, not measured: add a task step."}
            )

    @property
    def is_safety(self) -> bool:
        """Whether the step must be confirmed before the work starts."""
        return self.kind in SAFETY_STEP_KINDS


class ChecklistStep(Step):
    """One step of a work order's checklist, ticked with a result or a measured value; a
    safety step's tick is its confirmation (`done_by`, `done_at`)."""

    site_lookup = "work_order__site"

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="steps")
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
    overtime = models.BooleanField(default=False, help_text="Worked outside normal hours.")
    # What the hour cost (contracts.LabourRate) when the entry was recorded, and its total, so a
    # later rate change does not rewrite past costs. Empty while the entry is running.
    cost_rate = money_field(null=True, blank=True, editable=False)
    cost = money_field(null=True, blank=True, editable=False)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        ordering = ["work_order", "started_at"]
        verbose_name_plural = "labour entries"
        indexes = [trigram_index("note", name="labour_note_trgm")]  # the timesheets' search
        constraints = [
            models.CheckConstraint(condition=Q(hours__gte=0), name="labour_hours_not_negative"),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="labour_ends_after_start",
            ),
        ]

    def __str__(self):
        return f"{self.technician} {self.hours} h"


class ServiceLine(models.Model):
    """External work bought for a work order (a vendor's repair, a crane hire, a lab test)."""

    site_lookup = "work_order__site"

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="services")
    vendor = models.CharField(max_length=200)
    description = models.CharField(max_length=500)
    amount = money_field(validators=[MinValueValidator(0)], help_text="In the customer's currency.")
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        ordering = ["work_order", "created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="service_line_amount_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.vendor}: {self.amount}"


class JobPlan(models.Model):
    """A reusable task template: checklist steps, estimated hours, required skill and parts.

    Owned by one site, by a customer (usable at all of its sites), or by nobody (global,
    usable everywhere); who reads, uses and writes which is decided by `OwnedQuerySet`.
    """

    sync_resource = "job-plans"

    site = optional_foreign_key(
        "assets.Site",
        on_delete=models.PROTECT,
        related_name="job_plans",
        help_text="The one site that owns and uses this plan.",
    )
    customer = optional_foreign_key(
        "assets.Customer",
        on_delete=models.PROTECT,
        related_name="job_plans",
        help_text="Or: the customer whose sites all use it. Neither: every site (superusers).",
    )
    code = models.SlugField(max_length=50, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    estimated_hours = models.DecimalField(max_digits=7, decimal_places=2, default=Decimal("1"))
    required_skill = models.ForeignKey(
        "accounts.Skill", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    work_type = models.CharField(
        max_length=20, choices=WorkOrderType.choices, default=WorkOrderType.CONDITION_BASED
    )
    requires_technician_signature = models.BooleanField(
        default=False, help_text="Work from this plan is completed with the technician's signature."
    )
    requires_client_signature = models.BooleanField(
        default=False,
        help_text="Work from this plan is completed with the client representative's signature.",
    )
    is_active = models.BooleanField(default=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(site__isnull=True) | Q(customer__isnull=True),
                name="job_plan_one_owner",
                violation_error_message="A job plan belongs to a site or to a customer, not both.",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.title}"

    def tombstone_site_ids(self) -> list[int]:
        """The sites whose people read this plan: its site, or its customer's sites (none:
        a global plan, whose tombstone is global)."""
        if self.site_id is not None:
            return [self.site_id]
        if self.customer_id is not None:
            return list(self.customer.sites.values_list("id", flat=True))
        return []

    @property
    def is_global(self) -> bool:
        return self.site_id is None and self.customer_id is None

    def is_usable_at(self, site) -> bool:
        """Whether a rule or PM plan of `site` (None: a rule for every site) may use this plan."""
        if self.is_global:
            return True
        if site is None:
            return False
        return self.site_id == site.pk or self.customer_id == site.customer_id


class JobPlanStep(Step):
    """One ordered checklist step of a job plan, copied to each work order made from it."""

    job_plan = models.ForeignKey(JobPlan, on_delete=models.CASCADE, related_name="steps")

    class Meta:
        ordering = ["job_plan", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["job_plan", "position"], name="job_plan_step_unique_position"
            ),
        ]


class JobPlanPart(models.Model):
    """A part and quantity a job plan needs; reserved when a work order is made from it."""

    job_plan = models.ForeignKey(JobPlan, on_delete=models.CASCADE, related_name="parts")
    part = models.ForeignKey("assets.Part", on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(max_digits=12, decimal_places=3)

    class Meta:
        ordering = ["job_plan", "part"]
        constraints = [
            models.UniqueConstraint(fields=["job_plan", "part"], name="job_plan_part_unique"),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="job_plan_part_quantity_positive"
            ),
        ]

    def __str__(self):
        return f"{self.quantity} x {self.part}"


class PartReservation(models.Model):
    """Parts held in a storeroom for a work order (counted in Stock.reserved)."""

    site_lookup = "work_order__site"

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="reservations")
    stock = models.ForeignKey("assets.Stock", on_delete=models.PROTECT, related_name="reservations")
    quantity = models.DecimalField(max_digits=12, decimal_places=3)
    issued = models.DecimalField(max_digits=12, decimal_places=3, default=Decimal("0"))
    created_at = models.DateTimeField(default=timezone.now)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        ordering = ["work_order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["work_order", "stock"], name="reservation_unique_stock"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="reservation_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(issued__gte=0) & Q(issued__lte=models.F("quantity")),
                name="reservation_issued_within_quantity",
            ),
        ]

    def __str__(self):
        return f"{self.quantity} of {self.stock_id} for {self.work_order_id}"

    @property
    def outstanding(self) -> Decimal:
        return self.quantity - self.issued


class ReorderSuggestion(models.Model):
    """A part that a job needed but the site's storerooms could not supply."""

    site_lookup = "storeroom__site"

    part = models.ForeignKey("assets.Part", on_delete=models.PROTECT, related_name="+")
    storeroom = models.ForeignKey(
        "assets.Storeroom", on_delete=models.PROTECT, related_name="reorder_suggestions"
    )
    quantity = models.DecimalField(max_digits=12, decimal_places=3)
    work_order = models.ForeignKey(
        WorkOrder, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["resolved_at", "storeroom"])]

    def __str__(self):
        return f"Reorder {self.quantity} x {self.part_id}"
