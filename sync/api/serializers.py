from rest_framework import serializers

from sync.models import Tombstone


class TombstoneSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tombstone
        fields = ["id", "resource", "object_id", "site", "deleted_at"]
        read_only_fields = fields
