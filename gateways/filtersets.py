import django_filters

from assets.models import Site
from cmms.api.filters import FilterSet, MultipleChoiceFilter
from gateways.choices import Connectivity, SensorState
from gateways.models import Gateway, Sensor


class GatewayFilterSet(FilterSet):
    """`?status=` filters on the connectivity computed at request time (the view annotates it,
    `gateways.health`), several values allowed (`?status=late,offline`); unknown ones: 400."""

    status = MultipleChoiceFilter(choices=Connectivity.choices)

    class Meta:
        model = Gateway
        fields = ["site", "is_active", "asset", "model"]


class SensorFilterSet(FilterSet):
    state = MultipleChoiceFilter(choices=SensorState.choices)
    """Sensors by gateway, watched asset, state or site; ids of another site's rows: 400."""

    site = django_filters.ModelChoiceFilter(field_name="gateway__site", queryset=Site.objects.all())

    class Meta:
        model = Sensor
        fields = ["gateway", "asset", "is_active"]
