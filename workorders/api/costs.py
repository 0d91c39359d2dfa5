"""`GET /api/v1/costs/`: costs rolled up per work order, asset, site or customer over a period,
for planners, over the work orders of their sites."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from cmms.api.openapi import AutoSchema
from cmms.api.permissions import IsPlanner
from workorders.api.serializers import CostSerializer
from workorders.costs import GROUPS, PERIOD_YEARS, costs_by, group_labels, period_bound
from workorders.models import WorkOrder


class CostQuerySerializer(serializers.Serializer):
    group_by = serializers.ChoiceField(choices=GROUPS)
    from_ = serializers.DateField(help_text="First day of the period (midnight, server time).")
    to = serializers.DateField(help_text="Day after the period (exclusive).")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields

    def validate(self, attrs):
        for name in ("from", "to"):  # midnights of year 1 or 9999 fall outside UTC's calendar
            if attrs[name].year not in PERIOD_YEARS:
                raise serializers.ValidationError({name: "Pick a day of the years 2 to 9998."})
        if attrs["to"] <= attrs["from"]:
            raise serializers.ValidationError({"to": "The period must end after it starts."})
        return attrs


class CostRowSerializer(CostSerializer):
    id = serializers.IntegerField(
        allow_null=True, help_text="The group's id (null: work orders without an asset)."
    )
    name = serializers.CharField(help_text="Work order number, asset tag, site or customer.")


class CostRollupSerializer(serializers.Serializer):
    group_by = serializers.ChoiceField(choices=GROUPS)
    from_ = serializers.DateField()
    to = serializers.DateField()
    results = CostRowSerializer(many=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class OneObjectSchema(AutoSchema):
    """The roll-up is one object (the period and its rows), not a list of them."""

    def _is_list_view(self, serializer=None) -> bool:
        return False


class CostViewSet(viewsets.ViewSet):
    """Costs incurred in a period (docs/costs.md), per `group_by`: work_order, asset, site or
    customer; only work orders of the planner's sites count. Groups without costs are absent.
    Amounts are in each group's customer's currency."""

    permission_classes = [IsPlanner]
    schema = OneObjectSchema()

    @extend_schema(parameters=[CostQuerySerializer], responses=CostRollupSerializer)
    def list(self, request):
        query = CostQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        group = params["group_by"]
        costs = costs_by(
            work_orders=WorkOrder.objects.for_user(request.user),
            start=period_bound(params["from"]),
            end=period_bound(params["to"]),
            group=group,
        )
        names = group_labels(group, costs)
        rows = [
            {"id": pk, "name": names.get(pk, "(no asset)"), **vars(cost), "total": cost.total}
            for pk, cost in sorted(costs.items(), key=lambda item: -item[1].total)
        ]
        data = {"group_by": group, "from": params["from"], "to": params["to"], "results": rows}
        return Response({**data, "results": CostRowSerializer(rows, many=True).data})
