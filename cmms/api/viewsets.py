"""Base viewsets: every API resource is restricted to the sites the user may see, in one place.

A viewset names its queryset, serializer and filterset; the base class applies
`Model.objects.for_user(user)`, so another site's object is a 404 and never a leak.
"""

from rest_framework import mixins, viewsets

from cmms.api.permissions import RolePermission


class ValidatedInputMixin:
    def validated(self, serializer_class, data=None) -> dict:
        """`data` (the request body unless given) checked by `serializer_class`.

        Invalid input raises, so the answer is a 400 naming each field and why.
        """
        serializer = serializer_class(
            data=self.request.data if data is None else data,
            context=self.get_serializer_context(),
        )
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class SiteScopedMixin(ValidatedInputMixin):
    permission_classes = [RolePermission]

    def get_queryset(self):
        return super().get_queryset().for_user(self.request.user)


class SiteScopedModelViewSet(SiteScopedMixin, viewsets.ModelViewSet):
    """Read for everyone at the site; writes as `RolePermission` and the services allow."""


class SiteScopedReadOnlyViewSet(SiteScopedMixin, viewsets.ReadOnlyModelViewSet):
    """Read-only resources (alerts, ledgers, history)."""


class SiteScopedCreateReadViewSet(
    SiteScopedMixin,
    mixins.CreateModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """Resources that are created but never edited (readings, ledger rows)."""


class SiteScopedNoDeleteViewSet(
    SiteScopedMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """Resources that are kept for their history (assets, work orders): retired, never deleted."""


class CatalogueModelViewSet(viewsets.ModelViewSet):
    """Global catalogues that belong to no site (parts, equipment classes): everyone reads,
    only superusers write, since a change reaches every customer's plants (catalogues owned by
    a site or a customer, like job plans, are site-scoped viewsets instead). Deleting a row
    that is still in use answers 409.
    """

    permission_classes = [RolePermission]
    write_roles = frozenset()


class CatalogueReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    """Shared read-only catalogues (failure codes)."""

    permission_classes = [RolePermission]
