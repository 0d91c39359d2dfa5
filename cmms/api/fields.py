"""Serializer fields that only accept objects the requesting user may see."""

from decimal import Decimal

from rest_framework import serializers


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A primary-key field whose choices are restricted to the user's sites.

    An id of another site's object answers exactly like an id that does not exist,
    so foreign objects cannot be probed or written into.
    """

    def get_queryset(self):
        queryset = super().get_queryset()
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if hasattr(queryset, "for_user"):
            return queryset.for_user(user)
        return queryset


QUANTITY_NOT_POSITIVE = "Quantity must be greater than zero."


def bounded_decimal(
    *, max_digits: int, decimal_places: int, above_zero: bool = False, message: str, **kwargs
):
    """A decimal field that refuses what the service refuses (below zero; with `above_zero`,
    zero too), saying it in the service's words, and declares the bound, so the schema
    (`cmms.api.openapi`) tells a client before it asks."""
    smallest = Decimal(1).scaleb(-decimal_places) if above_zero else Decimal(0)
    return serializers.DecimalField(
        max_digits=max_digits,
        decimal_places=decimal_places,
        min_value=smallest,
        error_messages={"min_value": message, "max_value": message},
        **kwargs,
    )
