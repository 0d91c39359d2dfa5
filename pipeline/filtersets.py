from cmms.api.filters import FilterSet
from pipeline.models import AlertRule


class AlertRuleFilterSet(FilterSet):
    class Meta:
        model = AlertRule
        fields = ["site", "asset", "equipment_class", "is_active", "min_severity", "job_plan"]
