"""Filter building blocks shared by the apps' filtersets."""

import django_filters
from django import forms


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
