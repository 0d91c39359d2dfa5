from rest_framework import serializers

from alerts.models import Alert
from cmms.api.serializers import columns

# The pipeline's own columns (deduplication hash, retries); the API shows every other one.
_BOOKKEEPING = frozenset({"content_hash", "error", "attempts", "next_attempt_at"})


class AlertSerializer(serializers.ModelSerializer):
    class Meta:
        model = Alert
        fields = columns(Alert, without=_BOOKKEEPING)
        read_only_fields = fields
