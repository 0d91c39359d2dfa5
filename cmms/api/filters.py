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
