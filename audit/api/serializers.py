from rest_framework import serializers

from audit.models import AuditEntry


class VisibleSitesField(serializers.ListField):
    """Ids of the sites a shared object's change concerns, limited to the reader's own sites."""

    child = serializers.IntegerField()

    def to_representation(self, sites):
        user = self.context["request"].user
        return sorted(site.pk for site in sites.all() if user.may_see_site(site.pk))


class AuditEntrySerializer(serializers.ModelSerializer):
    sites = VisibleSitesField(read_only=True)

    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "created_at",
            "actor",
            "actor_name",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "site",
            "sites",
            "changes",
        ]
        read_only_fields = fields
