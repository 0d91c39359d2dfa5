from datetime import UTC, datetime, timedelta

from django.utils import timezone
from rest_framework import serializers

from assets.models import Asset
from cmms.api.fields import ScopedPrimaryKeyRelatedField
from cmms.api.serializers import columns
from monitoring.choices import Resolution
from monitoring.models import MonitoredMeasurement

RAW_BY_DEFAULT_UP_TO = timedelta(days=7)
DEFAULT_RANGE = timedelta(days=1)
MAX_RANGE = {
    Resolution.RAW: timedelta(days=31),
    Resolution.HOUR: timedelta(days=366),
    Resolution.DAY: timedelta(days=5 * 366),
}
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


class MeasurementQuerySerializer(serializers.Serializer):
    """`?name=&from=&to=&resolution=`: the range defaults to the last day before `to` (now),
    the resolution to raw for ranges up to 7 days and hourly above."""

    name = serializers.CharField(required=False, max_length=100)
    resolution = serializers.ChoiceField(choices=Resolution.choices, required=False)
    to = serializers.DateTimeField(required=False)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateTimeField(required=False)  # a keyword in Python
        return fields

    def _in_bounds(self, field_name, value):
        if value is not None and not EARLIEST <= value <= LATEST:
            raise serializers.ValidationError(
                {field_name: "Must be between 1970-01-01 and 2200-01-01."}
            )

    def validate(self, data):
        for field_name in ("from", "to"):
            self._in_bounds(field_name, data.get(field_name))
        end = data.get("to") or timezone.now()
        start = data.get("from") or end - DEFAULT_RANGE
        if start > end:
            raise serializers.ValidationError({"from": "Must not be after `to`."})
        resolution = data.get("resolution") or (
            Resolution.RAW if end - start <= RAW_BY_DEFAULT_UP_TO else Resolution.HOUR
        )
        if end - start > MAX_RANGE[resolution]:
            raise serializers.ValidationError(
                {
                    "from": f"The range may span at most {MAX_RANGE[resolution].days} days at "
                    f"resolution {resolution}; ask for a shorter range or a coarser resolution."
                }
            )
        return {"name": data.get("name"), "start": start, "end": end, "resolution": resolution}


class MeasurementSeriesSerializer(serializers.Serializer):
    name = serializers.CharField()
    unit = serializers.CharField()
    points = serializers.ListField(
        child=serializers.ListField(),
        help_text="[at, value] (raw) or [start, min, mean, max, count] (hour, day), oldest first.",
    )


class MeasurementsSerializer(serializers.Serializer):
    asset = serializers.IntegerField()
    resolution = serializers.ChoiceField(choices=Resolution.choices)
    measurements = MeasurementSeriesSerializer(many=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateTimeField()
        fields["to"] = serializers.DateTimeField()
        return fields


class MonitoredMeasurementSerializer(serializers.ModelSerializer):
    """A watched measurement: its limits (planners write them) and its latest assessment
    (read-only), with the open work order proposed from its trend, if any."""

    asset = ScopedPrimaryKeyRelatedField(queryset=Asset.objects.all())
    open_proposal = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="The open work order proposed from the trend (condition `trend.<name>`).",
    )

    class Meta:
        model = MonitoredMeasurement
        fields = [*columns(MonitoredMeasurement), "open_proposal"]
        read_only_fields = ["site", "created_at", "updated_at", *model.ASSESSMENT_FIELDS]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            fields["asset"].read_only = True  # the history is that asset's
        return fields
