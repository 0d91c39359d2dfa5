from rest_framework import serializers

from assets.models import Site
from cmms.api.fields import ScopedPrimaryKeyRelatedField
from integrations.choices import SUBSCRIBABLE, EventType
from integrations.models import Delivery, DeliveryAttempt, WebhookEndpoint


class WebhookEndpointSerializer(serializers.ModelSerializer):
    """An outbound endpoint; its secret is never readable (only its fingerprint)."""

    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=[(t.value, t.label) for t in SUBSCRIBABLE]),
        allow_empty=False,
    )
    sites = ScopedPrimaryKeyRelatedField(
        queryset=Site.objects.all(),
        many=True,
        required=False,
        help_text="Empty: every site the owner may see when the event happens.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "event_types",
            "sites",
            "enabled",
            "secret_fingerprint",
            "failing_since",
            "disabled_at",
            "disabled_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "secret_fingerprint",
            "failing_since",
            "disabled_at",
            "disabled_reason",
            "created_at",
            "updated_at",
        ]


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    """The creation answer: the endpoint and its secret, shown this once."""

    secret = serializers.CharField(read_only=True)

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


class EndpointSecretSerializer(serializers.Serializer):
    secret = serializers.CharField(read_only=True)
    fingerprint = serializers.CharField(read_only=True)


class DeliveryAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["at", "status_code", "duration_ms", "error", "response_excerpt"]


class DeliverySerializer(serializers.ModelSerializer):
    """One event's delivery to the endpoint, with every attempt (newest first)."""

    event_id = serializers.CharField(source="event.webhook_id", read_only=True)
    event_type = serializers.ChoiceField(
        source="event.type", choices=EventType.choices, read_only=True
    )
    occurred_at = serializers.DateTimeField(source="event.occurred_at", read_only=True)
    attempts_log = DeliveryAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "event_id",
            "event_type",
            "subject",
            "occurred_at",
            "status",
            "attempts",
            "next_attempt_at",
            "last_status_code",
            "last_error",
            "delivered_at",
            "attempts_log",
        ]
        read_only_fields = fields
