from django.utils import timezone
from rest_framework import serializers

from assets.models import Asset, EquipmentClass, Meter, MeterReading, Site
from cmms.api.fields import ScopedPrimaryKeyRelatedField
from cmms.api.serializers import columns
from pm.models import MeterReset, PMOccurrence, PMPlan
from workorders.models import JobPlan


class PMPlanSerializer(serializers.ModelSerializer):
    """A PM plan; validated by `pm_plan_save` (assets of the plan's site, complete trigger)."""

    site = ScopedPrimaryKeyRelatedField(queryset=Site.objects.all())
    asset = ScopedPrimaryKeyRelatedField(
        queryset=Asset.objects.all(), allow_null=True, required=False
    )
    equipment_class = serializers.PrimaryKeyRelatedField(
        queryset=EquipmentClass.objects.all(), allow_null=True, required=False
    )
    job_plan = ScopedPrimaryKeyRelatedField(queryset=JobPlan.objects.all())

    class Meta:
        model = PMPlan
        fields = columns(PMPlan)
        read_only_fields = ["generate_from", "created_at", "updated_at"]


class PMOccurrenceSerializer(serializers.ModelSerializer):
    work_order_number = serializers.CharField(
        source="work_order.number", read_only=True, allow_null=True
    )

    class Meta:
        model = PMOccurrence
        fields = [
            "id",
            "plan",
            "asset",
            "due_at",
            "threshold",
            "status",
            "late",
            "reason",
            "work_order",
            "work_order_number",
            "created_at",
        ]


class ForecastQuerySerializer(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=366, default=90)
    site = serializers.IntegerField(required=False)


class ForecastItemSerializer(serializers.Serializer):
    plan = serializers.IntegerField()
    plan_name = serializers.CharField()
    site = serializers.IntegerField()
    site_timezone = serializers.CharField()
    asset = serializers.IntegerField()
    asset_tag = serializers.CharField()
    trigger = serializers.CharField()
    due_at = serializers.DateTimeField()
    generate_at = serializers.DateTimeField()
    threshold = serializers.DecimalField(max_digits=16, decimal_places=3, allow_null=True)
    job_plan = serializers.CharField()
    estimated_hours = serializers.DecimalField(max_digits=7, decimal_places=2)


class ComplianceQuerySerializer(serializers.Serializer):
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    site = serializers.IntegerField(required=False)

    def validate(self, attrs):
        if attrs["until"] <= attrs["since"]:
            raise serializers.ValidationError({"until": "Must be after `since`."})
        return attrs


class ComplianceSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="PM work orders planned due in the period.")
    on_time = serializers.IntegerField(help_text="Completed by the planned due date.")
    late = serializers.IntegerField(help_text="Completed after the planned due date.")
    open = serializers.IntegerField(help_text="Not completed yet.")
    compliance = serializers.FloatField(allow_null=True, help_text="on_time / total, in %.")
    backlog = serializers.IntegerField(help_text="Open PM work past its planned due date (now).")


class MeterReadingSerializer(serializers.ModelSerializer):
    meter = ScopedPrimaryKeyRelatedField(queryset=Meter.objects.all())
    observed_at = serializers.DateTimeField(required=False)
    # None for a gateway's readings: no person recorded them.
    recorded_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    updated_at = serializers.DateTimeField(
        source="recorded_at", read_only=True, help_text="Readings never change: `recorded_at`."
    )

    class Meta:
        model = MeterReading
        fields = ["id", "meter", "value", "observed_at", "recorded_at", "recorded_by", "updated_at"]
        read_only_fields = ["recorded_at"]

    def validate(self, attrs):
        attrs.setdefault("observed_at", timezone.now())
        return attrs


class MeterResetSerializer(serializers.ModelSerializer):
    meter = ScopedPrimaryKeyRelatedField(queryset=Meter.objects.all())
    reset_at = serializers.DateTimeField(required=False)
    created_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = MeterReset
        fields = columns(MeterReset)
        read_only_fields = ["value_before", "offset", "created_at"]
