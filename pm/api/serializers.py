from django.utils import timezone
from rest_framework import serializers

from assets.models import Asset, EquipmentClass, Meter, MeterReading, Site
from cmms.api.fields import ScopedPrimaryKeyRelatedField
from cmms.api.serializers import columns
from pm.models import (
    MeterReset,
    PMOccurrence,
    PMPlan,
    RoundResult,
    RoundRun,
    Route,
    RouteCheck,
    RoutePoint,
)
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


class RouteCheckSerializer(serializers.ModelSerializer):
    class Meta:
        model = RouteCheck
        fields = ["id", "position", "kind", "label", "unit", "low", "high", "meter"]


class RoutePointSerializer(serializers.ModelSerializer):
    asset_tag = serializers.CharField(source="asset.tag", read_only=True)
    asset_name = serializers.CharField(source="asset.name", read_only=True)
    checks = RouteCheckSerializer(many=True, read_only=True)

    class Meta:
        model = RoutePoint
        fields = ["id", "position", "asset", "asset_tag", "asset_name", "instruction", "checks"]


class RouteSerializer(serializers.ModelSerializer):
    """A route with its points and checks, in walking order."""

    points = RoutePointSerializer(many=True, read_only=True)

    class Meta:
        model = Route
        fields = [*columns(Route), "points"]


class RoundResultSerializer(serializers.ModelSerializer):
    check = serializers.PrimaryKeyRelatedField(source="route_check", read_only=True)
    work_order_number = serializers.CharField(
        source="work_order.number", read_only=True, allow_null=True
    )
    recorded_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = RoundResult
        fields = [
            "id",
            "check",
            "value",
            "passed",
            "note",
            "out_of_limits",
            "work_order",
            "work_order_number",
            "meter_reading",
            "recorded_by",
            "recorded_at",
        ]


class RoundRunSerializer(serializers.ModelSerializer):
    """A run of a route with the results recorded so far (read-only)."""

    route_code = serializers.CharField(source="route.code", read_only=True)
    site = serializers.IntegerField(source="route.site_id", read_only=True)
    results = RoundResultSerializer(many=True, read_only=True)

    class Meta:
        model = RoundRun
        fields = [
            "id",
            "route",
            "route_code",
            "site",
            "due_at",
            "status",
            "assignee",
            "started_at",
            "started_by",
            "completed_at",
            "completed_by",
            "created_at",
            "results",
        ]


class RoundResultRecordSerializer(serializers.Serializer):
    """One check's answer: `value` for a reading, `passed` for a pass/fail check."""

    check = serializers.IntegerField(min_value=1, help_text="Id of a check of the run's route.")
    value = serializers.DecimalField(
        max_digits=16, decimal_places=3, required=False, allow_null=True
    )
    passed = serializers.BooleanField(required=False, allow_null=True)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
