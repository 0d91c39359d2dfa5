from rest_framework import serializers

from accounts.models import Skill
from assets.models import Asset, Customer, Site
from cmms.api.fields import ScopedPrimaryKeyRelatedField
from cmms.fields import MONEY
from cmms.work import HoldReason
from contracts.models import BillingRate, BusinessCalendar, Contract, Holiday, SlaTarget
from contracts.services import CONTRACT_FIELDS


class SlaTargetSerializer(serializers.ModelSerializer):
    class Meta:
        model = SlaTarget
        fields = ["priority", "response_hours", "resolution_hours", "clock"]


class BillingRateSerializer(serializers.ModelSerializer):
    skill = serializers.SlugRelatedField(slug_field="code", queryset=Skill.objects.all())
    hourly_rate = serializers.DecimalField(**MONEY, min_value=0)

    class Meta:
        model = BillingRate
        fields = ["skill", "hourly_rate"]


class ContractSerializer(serializers.ModelSerializer):
    """A customer's contract: the sites (and, when listed, only the assets) it covers, from
    `starts_on` to `ends_on` (null: open-ended), its SLA `targets` (one per priority, hours in
    the site's business calendar or around the clock), the hold reasons that pause the clock,
    and its billing terms, in the customer's `currency`. `targets` and `billing_rates`, when
    sent, replace the contract's lists. Planners of every covered site write.
    """

    customer = ScopedPrimaryKeyRelatedField(queryset=Customer.objects.all())
    sites = ScopedPrimaryKeyRelatedField(many=True, queryset=Site.objects.all())
    assets = ScopedPrimaryKeyRelatedField(many=True, queryset=Asset.objects.all(), required=False)
    pausing_hold_reasons = serializers.ListField(
        child=serializers.ChoiceField(choices=HoldReason.choices), required=False
    )
    targets = SlaTargetSerializer(many=True, required=False)
    billing_rates = BillingRateSerializer(many=True, required=False)
    currency = serializers.CharField(source="customer.currency", read_only=True)

    class Meta:
        model = Contract
        fields = [
            "id",
            *CONTRACT_FIELDS,
            "currency",
            "sites",
            "assets",
            "targets",
            "billing_rates",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]


class HolidaySerializer(serializers.ModelSerializer):
    class Meta:
        model = Holiday
        fields = ["date", "name"]


class BusinessCalendarSerializer(serializers.ModelSerializer):
    """A site's working week (`working_days`: 0 Monday … 6 Sunday; one window from
    `day_starts` to `day_ends`, in the site's `timezone`) and its holidays (replaced when
    sent). Contracts' business-hour targets count this time only."""

    site = ScopedPrimaryKeyRelatedField(queryset=Site.objects.all())
    working_days = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6), required=False
    )
    timezone = serializers.CharField(source="site.timezone", read_only=True)
    holidays = HolidaySerializer(many=True, required=False)

    class Meta:
        model = BusinessCalendar
        fields = ["id", "site", "timezone", "working_days", "day_starts", "day_ends", "holidays"]
        validators = []  # one calendar per site: the service says so, naming the site

    def validate(self, attrs):
        if self.instance is not None and "site" in attrs and attrs["site"] != self.instance.site:
            raise serializers.ValidationError({"site": "A calendar stays with its site."})
        return attrs
