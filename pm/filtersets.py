import django_filters

from assets.models import MeterReading
from cmms.api.filters import (
    FilterSet,
    IntegerFilter,
    MomentFilter,
    MultipleChoiceFilter,
    SyncFilterSet,
)
from pm.choices import OccurrenceStatus, Scope, Trigger
from pm.models import MeterReset, PMOccurrence, PMPlan


class PMPlanFilterSet(SyncFilterSet):
    trigger = MultipleChoiceFilter(choices=Trigger.choices)
    scope = MultipleChoiceFilter(choices=Scope.choices)
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = PMPlan
        fields = ["site", "asset", "equipment_class", "job_plan", "is_active", "trigger", "scope"]


class PMOccurrenceFilterSet(FilterSet):
    status = MultipleChoiceFilter(choices=OccurrenceStatus.choices)
    due_after = django_filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="gte")
    due_before = django_filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="lt")

    class Meta:
        model = PMOccurrence
        fields = ["plan", "asset", "status", "late"]


class MeterReadingFilterSet(FilterSet):
    """Readings are append-only: their `updated_at` is when they were recorded."""

    asset = IntegerFilter(field_name="meter__asset")
    updated_at__gte = MomentFilter(field_name="recorded_at", lookup_expr="gte")
    updated_at__lt = MomentFilter(field_name="recorded_at", lookup_expr="lt")
    observed_after = django_filters.IsoDateTimeFilter(field_name="observed_at", lookup_expr="gte")
    observed_before = django_filters.IsoDateTimeFilter(field_name="observed_at", lookup_expr="lt")

    class Meta:
        model = MeterReading
        fields = ["meter"]


class MeterResetFilterSet(FilterSet):
    asset = IntegerFilter(field_name="meter__asset")

    class Meta:
        model = MeterReset
        fields = ["meter"]
