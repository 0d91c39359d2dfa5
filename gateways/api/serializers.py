from rest_framework import serializers

from assets.models import Asset, Site
from cmms.api.fields import ScopedPrimaryKeyRelatedField
from gateways.choices import Connectivity
from gateways.models import Gateway, Sensor

ASSET_OF_ANOTHER_SITE = "The asset belongs to another site."


class GatewaySerializer(serializers.ModelSerializer):
    """A gateway with its health; its secrets are never readable (only fingerprints of the
    live ones).

    `status` is computed when the request is answered (`gateways.health`), not the state the
    fleet check last recorded, so a gateway that just went silent reads `late` at once.
    """

    site = ScopedPrimaryKeyRelatedField(queryset=Site.objects.all())
    asset = ScopedPrimaryKeyRelatedField(
        queryset=Asset.objects.all(), allow_null=True, required=False
    )
    status = serializers.ChoiceField(choices=Connectivity.choices, read_only=True)
    battery = serializers.IntegerField(source="battery_percent", read_only=True, allow_null=True)
    signal = serializers.IntegerField(source="signal_dbm", read_only=True, allow_null=True)
    sensor_count = serializers.IntegerField(read_only=True)
    unmonitored_asset_count = serializers.IntegerField(read_only=True)
    secrets = serializers.SerializerMethodField()

    class Meta:
        model = Gateway
        fields = [
            "id",
            "site",
            "name",
            "is_active",
            "rate_limit_per_minute",
            "asset",
            "model",
            "heartbeat_interval_seconds",
            "heartbeat_grace_seconds",
            "sparkplug_group_id",
            "sparkplug_edge_node_id",
            "status",
            "connectivity_since",
            "last_seen_at",
            "last_heartbeat_at",
            "firmware",
            "uptime_seconds",
            "battery",
            "signal",
            "sensor_count",
            "unmonitored_asset_count",
            "created_at",
            "secrets",
        ]
        read_only_fields = [
            "id",
            "created_at",
            "last_seen_at",
            "last_heartbeat_at",
            "connectivity_since",
            "firmware",
            "uptime_seconds",
            "secrets",
        ]
        # One gateway per asset: checked by the service (full_clean), said on `asset`.
        validators = []

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

    def validate(self, attrs):
        site = attrs.get("site") or getattr(self.instance, "site", None)
        asset = attrs.get("asset")
        if asset is not None and site is not None and asset.site_id != site.pk:
            raise serializers.ValidationError({"asset": ASSET_OF_ANOTHER_SITE})
        return attrs


class GatewayCreatedSerializer(GatewaySerializer):
    """The answer to a create or a rotation: the only time the plaintext secret is shown."""

    secret = serializers.CharField(read_only=True)

    class Meta(GatewaySerializer.Meta):
        fields = [*GatewaySerializer.Meta.fields, "secret"]


class SecretSerializer(serializers.Serializer):
    """A newly issued secret, shown once."""

    secret = serializers.CharField(read_only=True)
    fingerprint = serializers.CharField(read_only=True)


class SensorSerializer(serializers.ModelSerializer):
    """A sensor behind a gateway and the asset it watches. Its state is the fleet check's
    (`live`, `stale`, `never_seen`); its times, battery and signal are what its gateway last
    reported. The gateway is fixed once created; the asset must be at the gateway's site."""

    gateway = ScopedPrimaryKeyRelatedField(queryset=Gateway.objects.all())
    asset = ScopedPrimaryKeyRelatedField(
        queryset=Asset.objects.all(), allow_null=True, required=False
    )
    gateway_name = serializers.CharField(source="gateway.name", read_only=True)
    site = serializers.IntegerField(source="gateway.site_id", read_only=True)
    battery = serializers.IntegerField(source="battery_percent", read_only=True, allow_null=True)
    signal = serializers.IntegerField(source="signal_dbm", read_only=True, allow_null=True)

    class Meta:
        model = Sensor
        fields = [
            "id",
            "gateway",
            "gateway_name",
            "site",
            "code",
            "name",
            "measures",
            "unit",
            "asset",
            "is_active",
            "stale_after_seconds",
            "state",
            "state_since",
            "last_sample_at",
            "last_reported_at",
            "battery",
            "signal",
            "created_at",
        ]
        read_only_fields = [
            "state",
            "state_since",
            "last_sample_at",
            "last_reported_at",
            "created_at",
        ]
        # (gateway, code) is unique: checked by the service, said on `code`.
        validators = []

    def to_representation(self, sensor):
        """A gateway's id is its webhook URL: only planners (who manage gateways) read it;
        technicians see its name."""
        data = super().to_representation(sensor)
        user = getattr(self.context.get("request"), "user", None)
        if user is None or not user.is_planner:
            data["gateway"] = None
        return data

    def validate_gateway(self, gateway):
        if self.instance is not None and gateway != self.instance.gateway:
            raise serializers.ValidationError("A sensor stays behind its gateway.")
        return gateway

    def validate(self, attrs):
        gateway = attrs.get("gateway") or getattr(self.instance, "gateway", None)
        asset = attrs.get("asset")
        if asset is not None and gateway is not None and asset.site_id != gateway.site_id:
            raise serializers.ValidationError({"asset": ASSET_OF_ANOTHER_SITE})
        return attrs
