from datetime import datetime
from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.api.serializers import UserRelatedField
from accounts.models import Skill
from assets.models import Asset, Site, Stock
from cmms.api.fields import QUANTITY_NOT_POSITIVE, ScopedPrimaryKeyRelatedField, bounded_decimal
from cmms.api.serializers import HidesCostsMixin, refuse_changes
from contracts.choices import SlaState
from workorders import policy
from workorders.choices import FailureCodeKind, HoldReason, SignatureRole, Status
from workorders.costs import work_order_cost
from workorders.models import (
    ChecklistStep,
    FailureCode,
    LabourEntry,
    ServiceLine,
    Signature,
    StatusChange,
    WorkOrder,
    WorkOrderEvent,
)

INITIAL_STATUSES = [
    (s.value, s.label) for s in (Status.REQUESTED, Status.APPROVED, Status.SCHEDULED)
]
# Nothing ever moves back to `requested`.
TARGET_STATUSES = [(s.value, s.label) for s in Status if s != Status.REQUESTED]


def failure_code_field(kind: str) -> serializers.SlugRelatedField:
    """A failure code of one kind, written and shown by its code (`VIB`, `MISALIGN`)."""
    return serializers.SlugRelatedField(
        slug_field="code",
        queryset=FailureCode.objects.filter(kind=kind),
        allow_null=True,
        required=False,
        help_text=f"A {kind} code (see /api/v1/failure-codes/?kind={kind}).",
    )


class FailureCodeSerializer(serializers.ModelSerializer):
    class Meta:
        model = FailureCode
        fields = ["id", "kind", "code", "name", "parent"]


class ChecklistStepSerializer(serializers.ModelSerializer):
    """A checklist step. A safety step (`kind` lockout or permit) is confirmed before the work
    starts: `done` is its confirmation, `done_by` and `done_at` who confirmed it and when;
    one with `photo_required` is confirmed on the technician pages, with the photo."""

    class Meta:
        model = ChecklistStep
        fields = [
            "id",
            *ChecklistStep.PLANNED_FIELDS,
            "done",
            "result",
            "value",
            "done_by",
            "done_at",
        ]
        read_only_fields = fields


# Where a work order comes from and what the pipeline keeps on it: set by services only.
ORIGIN_FIELDS = [
    "waiting_for_parts",
    "job_plan",
    "pm_plan",
    "planned_due_at",
    "condition",
    "alert_rule",
    "alert_count",
    "alert_severity",
    "first_alert_at",
    "last_alert_at",
]


# The estimate (customer's currency; planners write it, above the contract's not-to-exceed
# amount the client approves: workorders.approvals) and the client's decision (read-only here;
# POST /api/v1/work-orders/{id}/client-approval/).
CLIENT_APPROVAL_FIELDS = [
    "estimated_cost",
    "client_approval",
    "client_approval_by",
    "client_approval_at",
    "client_approval_comment",
]


class WorkOrderSerializer(serializers.ModelSerializer):
    """A work order. Failure codes (`problem`, `cause`, `remedy`) and `required_skill` are
    written and shown as codes, not ids.

    `number`, `site` and `status` are fixed here: the status changes only through
    `POST /api/v1/work-orders/{id}/transition/`. Sending another status or site is a 400.
    """

    # Read-only, so DRF would drop `allow_blank` and the schema would not admit the "" that
    # work not on hold answers (a generated client refuses it).
    hold_reason = serializers.ChoiceField(
        choices=HoldReason.choices,
        allow_blank=True,
        read_only=True,
        help_text='Why the work is on hold, as a code ("" while it is not on hold).',
    )

    asset = ScopedPrimaryKeyRelatedField(
        queryset=Asset.objects.all(), allow_null=True, required=False
    )
    assignee = UserRelatedField(allow_null=True, required=False)
    required_skill = serializers.SlugRelatedField(
        slug_field="code", queryset=Skill.objects.all(), allow_null=True, required=False
    )
    problem = failure_code_field(FailureCodeKind.PROBLEM)
    cause = failure_code_field(FailureCodeKind.CAUSE)
    remedy = failure_code_field(FailureCodeKind.REMEDY)
    is_overdue = serializers.BooleanField(read_only=True)
    # Declared, so DRF builds no validator for the (asset, condition) constraint: the pipeline
    # owns that key and the database enforces it.
    condition = serializers.CharField(read_only=True)
    not_monitored_since = serializers.SerializerMethodField(
        help_text="The work order's asset's: since when none of its sensors is heard (null: "
        "monitored, watched by no sensor, or no asset)."
    )
    # The SLA clock (contracts/sla.py): the state is computed at the read, not stored.
    sla_state = serializers.ChoiceField(
        source="sla_state_now",
        choices=[("", "No contract target"), *SlaState.choices],
        read_only=True,
        help_text="on_track, at_risk or breached against the contract's targets, at this "
        'moment ("" outside a contract).',
    )
    sla_paused = serializers.BooleanField(
        read_only=True, help_text="The SLA clock stands still (a pausing hold or approval)."
    )

    class Meta:
        model = WorkOrder
        fields = [
            "id",
            "number",
            "site",
            "asset",
            "type",
            "priority",
            "status",
            "title",
            "description",
            "source",
            "requested_by",
            "assignee",
            "required_skill",
            "scheduled_start",
            "due_at",
            "started_at",
            "completed_at",
            "closed_at",
            "estimated_hours",
            "actual_hours",
            "on_hold_reason",
            "needs_attention",
            "problem",
            "cause",
            "remedy",
            "is_overdue",
            "not_monitored_since",
            *CLIENT_APPROVAL_FIELDS,
            "hold_reason",
            "contract",
            "response_due_at",
            "resolution_due_at",
            "sla_state",
            "sla_paused",
            "technician_signature_required",
            "client_signature_required",
            *ORIGIN_FIELDS,
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            *ORIGIN_FIELDS,
            *CLIENT_APPROVAL_FIELDS[1:],
            "number",
            "site",
            "status",
            "source",
            "requested_by",
            "started_at",
            "completed_at",
            "closed_at",
            "actual_hours",
            "on_hold_reason",
            "hold_reason",
            "contract",
            "response_due_at",
            "resolution_due_at",
            "technician_signature_required",
            "client_signature_required",
            "created_at",
            "updated_at",
        ]

    def get_not_monitored_since(self, work_order) -> datetime | None:
        asset = work_order.asset
        return asset.not_monitored_since if asset is not None else None

    def validate(self, attrs):
        instance = self.instance
        if instance is not None:
            refuse_changes(
                self,
                {
                    "status": (
                        "The status changes only through "
                        f"POST /api/v1/work-orders/{instance.pk}/transition/ "
                        '{"to": "<status>", "reason": "..."}.'
                    ),
                    "site": "A work order stays at its site.",
                },
            )
        return attrs


class WorkOrderCreateSerializer(WorkOrderSerializer):
    """Create a work order. Planners choose the initial status (requested, approved or
    scheduled) and plan it; technicians and customer viewers create work requests only:
    status `requested`, no planning fields (assignee, due date, schedule, estimate, skill).
    """

    site = ScopedPrimaryKeyRelatedField(queryset=Site.objects.all())
    status = serializers.ChoiceField(choices=INITIAL_STATUSES, default=Status.REQUESTED)

    class Meta(WorkOrderSerializer.Meta):
        read_only_fields = [
            f for f in WorkOrderSerializer.Meta.read_only_fields if f not in ("site", "status")
        ]


class CostSerializer(serializers.Serializer):
    """What a work order has cost so far (docs/costs.md), in its customer's currency."""

    labour = serializers.DecimalField(max_digits=14, decimal_places=2)
    parts = serializers.DecimalField(max_digits=14, decimal_places=2)
    services = serializers.DecimalField(max_digits=14, decimal_places=2)
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()
    labour_unpriced = serializers.BooleanField(
        help_text="Some recorded hours had no labour rate: `labour` is short of their cost."
    )
    parts_unpriced = serializers.BooleanField(
        help_text="Some parts were issued before costs were kept: `parts` is short of them."
    )


class WorkOrderDetailSerializer(WorkOrderSerializer):
    """A work order with its checklist and (for partner staff) its cost so far."""

    steps = ChecklistStepSerializer(many=True, read_only=True)
    cost = serializers.SerializerMethodField(
        help_text="Labour, parts and services so far; null for customer viewers, who never "
        "see the partner's costs."
    )

    class Meta(WorkOrderSerializer.Meta):
        fields = [*WorkOrderSerializer.Meta.fields, "steps", "cost"]

    @extend_schema_field(CostSerializer(allow_null=True))
    def get_cost(self, work_order) -> dict | None:
        request = self.context.get("request")
        if request is None or not policy.may_see_costs(request.user):
            return None
        return CostSerializer(work_order_cost(work_order)).data


class ClientDecisionSerializer(serializers.Serializer):
    approve = serializers.BooleanField(help_text="true approves the estimate, false rejects it.")
    comment = serializers.CharField(
        max_length=1000,
        required=False,
        allow_blank=True,
        default="",
        help_text="Required when rejecting: why.",
    )


class StatusOrNoneField(serializers.ChoiceField):
    """A work order status, or null where there was none (the `from` of the creation)."""

    def to_representation(self, value):
        return value or None


class StatusChangeSerializer(serializers.ModelSerializer):
    """One step of the lifecycle: `from` → `to` (both work order statuses; `from` is null for
    the creation), `by` whom, `at` when, and why."""

    from_ = StatusOrNoneField(source="from_status", choices=Status.choices, allow_null=True)
    to = serializers.ChoiceField(source="to_status", choices=Status.choices)
    by = serializers.PrimaryKeyRelatedField(source="changed_by", read_only=True, allow_null=True)
    by_username = serializers.CharField(
        source="changed_by.username", read_only=True, default=None, allow_null=True
    )
    at = serializers.DateTimeField(source="changed_at")

    class Meta:
        model = StatusChange
        fields = ["id", "from_", "to", "by", "by_username", "at", "reason"]
        read_only_fields = fields

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return {
            name: fields[name] for name in ["id", "from", "to", "by", "by_username", "at", "reason"]
        }


class TransitionSerializer(serializers.Serializer):
    """Move a work order along its lifecycle. `reason` is required for on_hold and cancelled;
    `problem`/`cause`/`remedy` codes may be given together with completing.
    """

    to = serializers.ChoiceField(choices=TARGET_STATUSES)
    reason = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)
    hold_reason = serializers.ChoiceField(
        choices=HoldReason.choices,
        required=False,
        help_text="With on_hold: why, as a code (default other); the contract's SLA clock "
        "stands still for the reasons it names.",
    )
    problem = failure_code_field(FailureCodeKind.PROBLEM)
    cause = failure_code_field(FailureCodeKind.CAUSE)
    remedy = failure_code_field(FailureCodeKind.REMEDY)


class AssignSerializer(serializers.Serializer):
    assignee = UserRelatedField(allow_null=True, help_text="A technician of the site, or null.")


class NoteSerializer(serializers.ModelSerializer):
    """A note on the work order's timeline: what was written, by whom, when."""

    message = serializers.CharField(max_length=5000)
    created_by = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = WorkOrderEvent
        fields = ["id", "message", "created_by", "created_at"]
        read_only_fields = ["id", "created_by", "created_at"]


class LabourSerializer(HidesCostsMixin, serializers.ModelSerializer):
    """Time spent on a work order. `technician` defaults to the caller; technicians record
    their own time only. `overtime` hours cost the overtime rate; `cost_rate` and `cost` are
    the labour rate's snapshot once the hours are final (null: no rate applied).
    """

    cost_fields = ("cost_rate", "cost")

    technician = UserRelatedField(required=False)
    hours = bounded_decimal(
        max_digits=7,
        decimal_places=2,
        above_zero=True,
        max_value=Decimal(24),
        message="Hours must be more than 0 and at most 24.",
    )

    class Meta:
        model = LabourEntry
        fields = [
            "id",
            "work_order",
            "technician",
            "started_at",
            "ended_at",
            "hours",
            "automatic",
            "note",
            "overtime",
            "cost_rate",
            "cost",
        ]
        read_only_fields = ["work_order", "ended_at", "automatic", "cost_rate", "cost"]
        extra_kwargs = {"started_at": {"required": False}}


class StepRecordSerializer(serializers.Serializer):
    done = serializers.BooleanField(default=True)
    result = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)
    value = serializers.DecimalField(
        max_digits=14, decimal_places=4, required=False, default=None, allow_null=True
    )


class IssuePartSerializer(serializers.Serializer):
    stock = ScopedPrimaryKeyRelatedField(
        queryset=Stock.objects.select_related("part", "storeroom"),
        help_text="A stock row (part in a storeroom) of the work order's site.",
    )
    quantity = bounded_decimal(
        max_digits=12, decimal_places=3, above_zero=True, message=QUANTITY_NOT_POSITIVE
    )


class ServiceLineSerializer(serializers.ModelSerializer):
    """An external service bought for a work order (vendor, description, amount in the
    customer's currency). Planners write them; customer viewers never see them."""

    amount = bounded_decimal(
        max_digits=14, decimal_places=2, message="An amount cannot be negative."
    )

    class Meta:
        model = ServiceLine
        fields = ["id", "work_order", "vendor", "description", "amount", "created_by", "created_at"]
        read_only_fields = ["work_order", "created_by", "created_at"]


class SignatureSerializer(serializers.ModelSerializer):
    """A sign-off signature. Write `role`, `signer_name` (for the technician it defaults to
    the caller's full name) and `image`, the drawing as a PNG data URL
    (`data:image/png;base64,...`, at most 200 KB, not blank); read back `image_url`, served
    only to users who may see the site. `superseded_at` is set once the signature is history
    (signed again, or the work was reopened)."""

    role = serializers.ChoiceField(choices=SignatureRole.choices)
    signer_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    image = serializers.CharField(
        write_only=True,
        max_length=300_000,
        help_text="The drawing as a PNG data URL: data:image/png;base64,...",
    )
    image_url = serializers.SerializerMethodField()

    class Meta:
        model = Signature
        fields = [
            "id",
            "role",
            "signer_name",
            "image",
            "image_url",
            "signed_by",
            "signed_at",
            "superseded_at",
        ]
        read_only_fields = ["signed_by", "signed_at", "superseded_at"]

    def get_image_url(self, signature) -> str:
        return f"/tech/signatures/{signature.pk}/"
