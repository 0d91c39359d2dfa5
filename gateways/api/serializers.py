from rest_framework import serializers

from assets.models import Site
from cmms.api.fields import ScopedPrimaryKeyRelatedField
from gateways.models import Gateway


class GatewaySerializer(serializers.ModelSerializer):
    """A gateway; its secrets are never readable (only fingerprints of the live ones)."""

    site = ScopedPrimaryKeyRelatedField(queryset=Site.objects.all())
    secrets = serializers.SerializerMethodField()

    class Meta:
        model = Gateway
        fields = [
            "id",
            "site",
            "name",
            "is_active",
            "rate_limit_per_minute",
            "created_at",
            "last_seen_at",
            "secrets",
        ]
        read_only_fields = ["id", "created_at", "last_seen_at", "secrets"]

    def get_secrets(self, gateway) -> list[dict]:
        return [
            {"fingerprint": s.fingerprint, "created_at": s.created_at}
            for s in gateway.secrets.all()
            if s.retired_at is None
        ]

    def validate_site(self, site):
        if self.instance is not None and site != self.instance.site:
            raise serializers.ValidationError("A gateway cannot move to another site.")
        return site


class GatewayCreatedSerializer(GatewaySerializer):
    """The answer to a create or a rotation: the only time the plaintext secret is shown."""

    secret = serializers.CharField(read_only=True)

    class Meta(GatewaySerializer.Meta):
        fields = [*GatewaySerializer.Meta.fields, "secret"]


class SecretSerializer(serializers.Serializer):
    """A newly issued secret, shown once."""

    secret = serializers.CharField(read_only=True)
    fingerprint = serializers.CharField(read_only=True)
