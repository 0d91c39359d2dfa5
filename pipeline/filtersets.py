import django_filters

from pipeline.models import AlertRule


class AlertRuleFilterSet(django_filters.FilterSet):
    class Meta:
        model = AlertRule
        fields = ["site", "asset", "equipment_class", "is_active", "min_severity", "job_plan"]
