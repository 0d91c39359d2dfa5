from rest_framework import serializers

from alerts.models import Alert


class AlertSerializer(serializers.ModelSerializer):
    class Meta:
        model = Alert
        fields = [
            "id",
            "gateway",
            "site",
            "alert_id",
            "asset",
            "asset_tag",
            "condition",
            "severity",
            "state",
            "observed_at",
            "received_at",
            "value",
            "unit",
            "threshold",
            "message",
            "attributes",
            "status",
            "work_order",
            "processed_at",
        ]
        read_only_fields = fields
