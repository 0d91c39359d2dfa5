from cmms.api.filters import FilterSet
from gateways.models import Gateway


class GatewayFilterSet(FilterSet):
    class Meta:
        model = Gateway
        fields = ["site", "is_active"]
