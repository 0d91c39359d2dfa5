"""Serializer fields that only accept objects the requesting user may see."""

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
