from rest_framework import serializers

from accounts.models import Skill
from assets.models import QTY, Asset, Customer, EquipmentClass, Part, Site
from cmms.api.fields import QUANTITY_NOT_POSITIVE, ScopedPrimaryKeyRelatedField, bounded_decimal
from pipeline.models import AlertRule
from workorders.models import JobPlan, JobPlanPart, JobPlanStep


class JobPlanStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = JobPlanStep
        fields = ["position", "text", "requires_value", "unit", "kind", "photo_required"]
        read_only_fields = ["position"]


class JobPlanPartSerializer(serializers.ModelSerializer):
    part = serializers.PrimaryKeyRelatedField(queryset=Part.objects.all())
    sku = serializers.CharField(source="part.sku", read_only=True)
    quantity = bounded_decimal(**QTY, above_zero=True, message=QUANTITY_NOT_POSITIVE)

    class Meta:
        model = JobPlanPart
        fields = ["part", "sku", "quantity"]


class JobPlanSerializer(serializers.ModelSerializer):
    """A job plan with its ordered checklist steps and parts list (both replaced on write).

    Owned by a `site` or a `customer` (neither: every site, written by superusers only);
    `job_plan_save` checks that the writer may own it.
    """

    site = ScopedPrimaryKeyRelatedField(
        queryset=Site.objects.all(), allow_null=True, required=False
    )
    customer = ScopedPrimaryKeyRelatedField(
        queryset=Customer.objects.all(), allow_null=True, required=False
    )

    required_skill = serializers.SlugRelatedField(
        slug_field="code", queryset=Skill.objects.all(), allow_null=True, required=False
    )
    steps = JobPlanStepSerializer(many=True, required=False)
    parts = JobPlanPartSerializer(many=True, required=False)

    class Meta:
        model = JobPlan
        fields = [
            "id",
            "site",
            "customer",
            "code",
            "title",
            "description",
            "work_type",
            "estimated_hours",
            "required_skill",
            "requires_technician_signature",
            "requires_client_signature",
            "is_active",
            "steps",
            "parts",
        ]


class AlertRuleSerializer(serializers.ModelSerializer):
    """A rule; `alert_rule_save` checks the scope (only superusers write global rules)."""

    site = ScopedPrimaryKeyRelatedField(
        queryset=Site.objects.all(), allow_null=True, required=False
    )
    asset = ScopedPrimaryKeyRelatedField(
        queryset=Asset.objects.all(), allow_null=True, required=False
    )
    equipment_class = serializers.PrimaryKeyRelatedField(
        queryset=EquipmentClass.objects.all(), allow_null=True, required=False
    )
    job_plan = ScopedPrimaryKeyRelatedField(
        queryset=JobPlan.objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = AlertRule
        fields = [
            "id",
            "name",
            "is_active",
            "site",
            "asset",
            "equipment_class",
            "condition_pattern",
            "min_severity",
            "job_plan",
            "response_critical",
            "response_major",
            "response_minor",
            "response_warning",
            "requires_approval",
            "cancel_on_clear",
        ]
