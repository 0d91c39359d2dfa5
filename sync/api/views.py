from rest_framework import mixins, viewsets

from cmms.api.permissions import RolePermission
from sync.api.serializers import TombstoneSerializer
from sync.filtersets import TombstoneFilterSet
from sync.models import Tombstone


class TombstoneViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Rows that were deleted, oldest first, for clients that mirror a resource
    (`?resource=parts&deleted_at__gte=...`, `?cursor=`; docs/sync.md). A site's tombstones
    reach the people of that site only; global ones (parts) everyone who reads the catalogue.
    A list only: a tombstone has nothing to show beyond its row in the list.
    """

    queryset = Tombstone.objects.all()
    serializer_class = TombstoneSerializer
    filterset_class = TombstoneFilterSet
    permission_classes = [RolePermission]
    ordering_fields = {"deleted_at": "deleted_at", "id": "id"}
    cursor_ordering = "deleted_at"

    def get_queryset(self):
        return super().get_queryset().for_user(self.request.user)
