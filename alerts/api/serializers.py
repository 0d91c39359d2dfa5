from rest_framework import serializers

from alerts.models import Alert

# The pipeline's own columns (deduplication hash, retries); the API shows every other one.
_BOOKKEEPING = frozenset({"content_hash", "error", "attempts", "next_attempt_at"})


class AlertSerializer(serializers.ModelSerializer):
    class Meta:
        model = Alert
        fields = [
            field.name for field in Alert._meta.concrete_fields if field.name not in _BOOKKEEPING
        ]
        read_only_fields = fields
