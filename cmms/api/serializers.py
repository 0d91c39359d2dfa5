"""Base serializers shared by every app's API."""

import copy

from rest_framework import serializers


class ValidatedModelSerializer(serializers.ModelSerializer):
    """Runs the model's `full_clean()` (field validators, `clean()`, constraints) on writes.

    For plain catalogue models that have no service of their own; models with services
    (assets, work orders, users) validate in the service instead.
    """

    def validate(self, attrs):
        attrs = super().validate(attrs)
        concrete = {f.name for f in self.Meta.model._meta.concrete_fields}
        model_fields = {name: value for name, value in attrs.items() if name in concrete}
        if self.instance is None:
            instance = self.Meta.model(**model_fields)
        else:
            instance = copy.copy(self.instance)
            for name, value in model_fields.items():
                setattr(instance, name, value)
        instance.full_clean()
        return attrs


def refuse_changes(serializer: serializers.Serializer, messages: dict[str, str]) -> None:
    """On update, answer 400 when the request tries to change a field that is fixed after creation.

    Sending the current value (as a full PUT does) is accepted, so clients may echo objects back.
    """
    instance = serializer.instance
    if instance is None:
        return
    errors = {}
    for name, message in messages.items():
        if name not in serializer.initial_data:
            continue
        current = instance._meta.get_field(name).value_from_object(instance)
        if str(serializer.initial_data[name]) != str(current):
            errors[name] = [message]
    if errors:
        raise serializers.ValidationError(errors)


def columns(model, *, without: frozenset[str] = frozenset()) -> list[str]:
    """The model's columns in declaration order (but `without`): a serializer's `fields` when
    it shows the row as it is stored, so a list of field names is not written twice."""
    return [field.name for field in model._meta.concrete_fields if field.name not in without]


class HidesCostsMixin:
    """Leaves out `cost_fields` for customer viewers: client staff never see the partner's
    internal costs or cost rates (docs/costs.md). The fields stay in the schema; the keys are
    absent from their answers."""

    cost_fields: tuple[str, ...] = ()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if getattr(user, "is_customer_viewer", False):
            for name in self.cost_fields:
                data.pop(name, None)
        return data
