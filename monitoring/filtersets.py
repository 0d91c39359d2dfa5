from cmms.api.filters import FilterSet, IntegerFilter, MultipleChoiceFilter
from monitoring.choices import TrendStatus
from monitoring.models import MonitoredMeasurement


class MonitoredMeasurementFilterSet(FilterSet):
    site = IntegerFilter(field_name="site")
    asset = IntegerFilter(field_name="asset")
    trend_status = MultipleChoiceFilter(choices=TrendStatus.choices)

    class Meta:
        model = MonitoredMeasurement
        fields = ["name", "enabled"]
