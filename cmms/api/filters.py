"""Filter building blocks shared by the apps' filtersets."""

import django_filters
from django import forms
from django.db import models
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError
from rest_framework.filters import BaseFilterBackend

from cmms.inputs import EARLIEST_DAY, LATEST_DAY, MAX_ID, day_in_range
from cmms.scoping import scoped_choices


class CommaSeparatedMultipleChoiceField(forms.MultipleChoiceField):
    """Accepts `?x=a,b` as well as `?x=a&x=b` (and mixtures of both)."""

    def to_python(self, value):
        values = super().to_python(value)
        return [part.strip() for item in values for part in item.split(",") if part.strip()]


class MultipleChoiceFilter(django_filters.MultipleChoiceFilter):
    """A choice filter taking several values, repeated or comma-separated; unknown ones: 400."""

    field_class = CommaSeparatedMultipleChoiceField

    def __init__(self, *args, **kwargs):
        # Filtering a column of the listed table cannot duplicate rows, so no DISTINCT (which
        # on a large table means sorting and counting whole rows); across a relation it can.
        kwargs.setdefault("distinct", "__" in (kwargs.get("field_name") or ""))
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        """`field IN (...)` rather than OR-ed equalities, so composite indexes apply."""
        if not value or self.conjoined or self.null_value in value:
            return super().filter(qs, value)
        if self.is_noop(qs, value):
            return qs
        qs = self.get_method(qs)(**{f"{self.field_name}__in": value})
        return qs.distinct() if self.distinct else qs


def scope_choice_filters(filterset: django_filters.FilterSet, user) -> None:
    """Limit every filter that picks related rows by id (`?site=`, `?gateway=`, `?meter=`, ...)
    to the rows the user may see (`cmms.scoping.scoped_choices`). Another site's id then
    answers 400, exactly like an id that does not exist, instead of an empty page that
    confirms it exists. Filters over global catalogues are left as they are.
    """
    for choice_filter in filterset.filters.values():
        if not isinstance(choice_filter, django_filters.filters.QuerySetRequestMixin):
            continue
        queryset = choice_filter.get_queryset(filterset.request)
        visible = scoped_choices(queryset.model, user)
        if visible is not None:
            choice_filter.queryset = queryset.filter(pk__in=visible.values("pk"))


class Int64Field(forms.IntegerField):
    """A whole number that SQLite and PostgreSQL can both compare with a bigint column."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", -MAX_ID - 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


class IntegerFilter(django_filters.NumberFilter):
    """An id or count filter: a whole number within 64 bits, else a 400 naming the filter.

    django-filter's NumberFilter takes any decimal (`1e999999`, twenty digits) and hands it to
    the lookup, where SQLite raised OverflowError and building the integer could take minutes.
    """

    field_class = Int64Field


_INTEGER_FIELDS = (
    models.AutoField,
    models.BigAutoField,
    models.SmallAutoField,
    models.IntegerField,
    models.SmallIntegerField,
    models.BigIntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.PositiveBigIntegerField,
)


class FilterSet(django_filters.FilterSet):
    """The base of every filterset: filters generated for integer columns are IntegerFilters.

    Declared filters on ids use IntegerFilter too (tests/trust/test_odd_input.py checks that
    no filterset declares a plain NumberFilter); foreign keys stay choice filters, whose
    lookup of the primary key Django already bounds.
    """

    FILTER_DEFAULTS = {
        **django_filters.filterset.FILTER_FOR_DBFIELD_DEFAULTS,
        **{field: {"filter_class": IntegerFilter} for field in _INTEGER_FIELDS},
    }


class ScopedFilterBackend(DjangoFilterBackend):
    """The API's filter backend: django-filter's, with choice filters scoped to the user's
    sites (`scope_choice_filters`), for every filterset, present and future. Filtersets built
    from a view's `filterset_fields` derive from our `FilterSet` too (ids range-checked)."""

    filterset_base = FilterSet

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            scope_choice_filters(filterset, request.user)
        return filterset


class MomentField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 date-time on a day every time zone can hold (`cmms.inputs.day_in_range`):
    `0001-01-01T00:00:00+23:59` is a 400 naming the filter, not an OverflowError."""

    def clean(self, value):
        moment = super().clean(value)
        if moment is not None and not day_in_range(moment.date()):
            raise forms.ValidationError(
                f"Give a time from {EARLIEST_DAY:%Y-%m-%d} to {LATEST_DAY:%Y-%m-%d}."
            )
        return moment


class MomentFilter(django_filters.IsoDateTimeFilter):
    field_class = MomentField


class SyncFilterSet(FilterSet):
    """A list an integrator mirrors: `?updated_at__gte=` and `?updated_at__lt=` (ISO 8601,
    with an offset; a bad value answers 400 naming the filter). docs/sync.md.

    Append-only resources have no `updated_at` column: their filterset declares the two
    filters again over the column that plays its part (a reading's `recorded_at`).
    """

    updated_at__gte = MomentFilter(field_name="updated_at", lookup_expr="gte")
    updated_at__lt = MomentFilter(field_name="updated_at", lookup_expr="lt")


class OrderingFilter(BaseFilterBackend):
    """`?ordering=updated_at` or `?ordering=-updated_at,id`: only over the fields a view offers
    in `ordering_fields` ({API name: column}), which are indexed ones, so every offered order is
    an index scan. `id` (or `-id`, following the last term) is appended as the tie-breaker, so
    the order is total and pages never overlap or skip rows with equal values. Any other field,
    or `ordering` on a list that offers none, answers 400 naming `ordering`. Without the
    parameter the list keeps its own default order.
    """

    param = "ordering"

    def get_ordering(self, request, view) -> list[str] | None:
        raw = request.query_params.get(self.param)
        if raw is None:
            return None
        offered = getattr(view, "ordering_fields", None) or {}
        terms = [term.strip() for term in raw.split(",") if term.strip()]
        if not terms:
            raise ValidationError({self.param: ["Name a field to order by."]})
        columns = [self._column(term, offered) for term in terms]
        if not any(column.lstrip("-") == "id" for column in columns):
            columns.append("-id" if columns[-1].startswith("-") else "id")
        return columns

    def _column(self, term: str, offered: dict) -> str:
        name = term.removeprefix("-")
        if name not in offered:
            choices = ", ".join(sorted(offered)) or "none on this list"
            raise ValidationError(
                {self.param: [f"Cannot order by '{name}' (not indexed); choose from: {choices}."]}
            )
        return ("-" if term.startswith("-") else "") + offered[name]

    def filter_queryset(self, request, queryset, view):
        ordering = self.get_ordering(request, view)
        return queryset.order_by(*ordering) if ordering else queryset

    def get_schema_operation_parameters(self, view):
        offered = getattr(view, "ordering_fields", None)
        if not offered:
            return []
        names = ", ".join(f"`{name}`" for name in offered)
        return [
            {
                "name": self.param,
                "required": False,
                "in": "query",
                "description": f"Order by {names} (`-` for descending, comma-separated); "
                "`id` is appended as the tie-breaker. Other fields answer 400.",
                "schema": {"type": "string"},
            }
        ]
