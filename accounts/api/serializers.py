from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import ApiToken, User
from accounts.selectors import user_list
from assets.models import Site
from cmms.api.fields import ScopedPrimaryKeyRelatedField
from cmms.roles import Role


@extend_schema_field(OpenApiTypes.INT)
class UserRelatedField(serializers.PrimaryKeyRelatedField):
    """A user by id, among the users the requesting user may see (`accounts.selectors.user_list`);
    anyone else answers like an id that does not exist.
    """

    def get_queryset(self):
        request = self.context.get("request")
        return user_list(viewer=getattr(request, "user", None))


class SkillCodesField(serializers.ListField):
    """Skills as a list of codes (`["mechanical", "vibration"]`)."""

    child = serializers.SlugField(max_length=50)

    def to_representation(self, value):
        return [skill.code for skill in value.all()]


class UserSerializer(serializers.ModelSerializer):
    """A person using the CMMS, with their role, sites and skills.

    - `password` is write-only: checked by the configured password validators and stored
      hashed; it is never returned. An account created without one has no usable password.
    - `sites` are ids. Planners may only give sites they have themselves: another site's id
      answers like an id that does not exist. Planners see only their own sites of a person,
      and change only people whose sites are all theirs (anyone else: 403).
    - `skills` are skill codes (slugs). An unknown code creates the skill, named after the code.
    - Planners get Django admin access (`is_staff`) with their role; the other roles do not.
    """

    password = serializers.CharField(
        write_only=True,
        required=False,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text="Write-only; validated by the password validators and stored hashed.",
    )
    role = serializers.ChoiceField(choices=Role.choices, default=Role.TECHNICIAN)
    sites = ScopedPrimaryKeyRelatedField(many=True, queryset=Site.objects.all(), required=False)
    skills = SkillCodesField(required=False)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "password",
            "email",
            "first_name",
            "last_name",
            "role",
            "sites",
            "skills",
            "is_active",
            "is_superuser",
            "available_hours_per_day",
            "date_joined",
            "last_login",
            "updated_at",
        ]
        read_only_fields = ["is_superuser", "date_joined", "last_login", "updated_at"]


class ApiTokenSerializer(serializers.ModelSerializer):
    """An API token for one device or integration. The key itself is never readable.

    - `user` defaults to the caller; only superusers issue tokens for another account.
    - `expires_in_days` (write-only) defaults to, and may not exceed, API_TOKEN_TTL_DAYS.
    - `expiry` is null for a token that never expires (keys migrated from before hashing).
    """

    user = UserRelatedField(required=False)
    expires_in_days = serializers.IntegerField(
        write_only=True, required=False, min_value=1, max_value=3650
    )
    expired = serializers.BooleanField(source="is_expired", read_only=True)

    class Meta:
        model = ApiToken
        fields = ["id", "user", "name", "created", "expiry", "expired", "expires_in_days"]
        read_only_fields = ["id", "created", "expiry", "expired"]


class ApiTokenIssuedSerializer(ApiTokenSerializer):
    """The answer to issuing a token: the only time its key (`token`) is shown."""

    token = serializers.CharField(read_only=True)

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]


class ApiTokenRevokeAllSerializer(serializers.Serializer):
    """Whose tokens to revoke: the caller's by default."""

    user = UserRelatedField(required=False)


class ApiTokensRevokedSerializer(serializers.Serializer):
    revoked = serializers.IntegerField()
