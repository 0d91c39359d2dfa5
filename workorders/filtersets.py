import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from cmms.api.filters import FilterSet, IntegerFilter, MultipleChoiceFilter, SyncFilterSet
from cmms.inputs import parse_id
from contracts.choices import SlaState
from workorders.choices import (
    OPEN_STATUSES,
    FailureCodeKind,
    Priority,
    Source,
    Status,
    WorkOrderType,
)
from workorders.models import FailureCode, WorkOrder


class FailureCodeFilterSet(FilterSet):
    kind = MultipleChoiceFilter(choices=FailureCodeKind.choices)
    parent = IntegerFilter(field_name="parent")

    class Meta:
        model = FailureCode
        fields = ["code"]


class WorkOrderFilterSet(SyncFilterSet):
    """`status`, `priority`, `type` take several values (`?status=requested,approved` or
    repeated); `assignee` is a user id, `me` or `none`; `overdue=true` is open work past due.
    """

    number = django_filters.CharFilter(field_name="number")
    site = IntegerFilter(field_name="site")
    asset = IntegerFilter(field_name="asset")
    status = MultipleChoiceFilter(choices=Status.choices)
    priority = MultipleChoiceFilter(choices=Priority.choices)
    type = MultipleChoiceFilter(choices=WorkOrderType.choices)
    source = MultipleChoiceFilter(choices=Source.choices)
    open = django_filters.BooleanFilter(method="filter_open", label="Open (not done) work only")
    assignee = django_filters.CharFilter(
        method="filter_assignee", label="Assignee user id, `me` or `none`"
    )
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="Open and past due")
    due_before = django_filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="lt")
    due_after = django_filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="gte")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    sla_state = django_filters.ChoiceFilter(
        choices=SlaState.choices,
        method="filter_sla_state",
        label="SLA state at this moment (work under a contract)",
    )

    class Meta:
        model = WorkOrder
        fields = []

    def filter_assignee(self, queryset, name, value):
        if value == "me":
            return queryset.filter(assignee=self.request.user)
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        user_id = parse_id(value)
        if user_id is not None:
            return queryset.filter(assignee_id=user_id)
        raise ValidationError({"assignee": "Give a user id, `me` or `none`."})

    def filter_open(self, queryset, name, value):
        if value:
            return queryset.filter(status__in=OPEN_STATUSES)
        return queryset.exclude(status__in=OPEN_STATUSES)

    def filter_sla_state(self, queryset, name, value):
        return queryset.in_sla_state(value, now=timezone.now())

    def filter_overdue(self, queryset, name, value):
        now = timezone.now()
        if value:
            return queryset.overdue(now)
        return queryset.exclude(Q(status__in=OPEN_STATUSES) & Q(due_at__lt=now))
