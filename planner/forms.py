from datetime import timedelta

from django import forms
from django.utils import timezone

from assets.models import Site
from cmms.inputs import DayField

PERIODS = [
    ("7", "Last 7 days"),
    ("30", "Last 30 days"),
    ("90", "Last 90 days"),
    ("365", "Last year"),
]


class SitePeriodForm(forms.Form):
    """Which site (or all the planner's sites) and which period the dashboard covers."""

    site = forms.ModelChoiceField(
        queryset=Site.objects.none(), required=False, empty_label="All my sites"
    )
    days = forms.TypedChoiceField(
        choices=PERIODS, coerce=int, initial=30, required=False, label="Period"
    )
    start = DayField(
        required=False, label="or from", widget=forms.DateInput(attrs={"type": "date"})
    )
    end = DayField(
        required=False, label="to (inclusive)", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            raise forms.ValidationError("The period must start before it ends.")
        if (start or end) and not (start and end):
            raise forms.ValidationError(
                "Give both dates of the period, or pick one of the periods."
            )
        return data

    def period(self, zone):
        """(start, end) as aware datetimes in `zone`, half-open; defaults to the last 30 days."""
        data = self.cleaned_data if self.is_valid() else {}
        today = timezone.localdate(timezone=zone)
        if data.get("start") and data.get("end"):
            first, last = data["start"], data["end"]
        else:
            days = data.get("days") or 30
            first, last = today - timedelta(days=days - 1), today
        start = timezone.make_aware(
            timezone.datetime.combine(first, timezone.datetime.min.time()), zone
        )
        end = timezone.make_aware(
            timezone.datetime.combine(last + timedelta(days=1), timezone.datetime.min.time()), zone
        )
        return start, end


class DispatchForm(forms.Form):
    """Move one work order on the dispatch board: to a technician, on a day, at a time."""

    work_order = forms.IntegerField(widget=forms.HiddenInput)
    assignee = forms.ModelChoiceField(queryset=None, empty_label=None)
    day = DayField(widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(initial="07:00", widget=forms.TimeInput(attrs={"type": "time"}))

    def __init__(self, *args, technicians, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = technicians
        self.fields["assignee"].label_from_instance = lambda u: u.get_full_name() or u.username


FLEET_PERIODS = [("7", "Last 7 days"), ("30", "Last 30 days"), ("90", "Last 90 days")]


class FleetForm(forms.Form):
    """Which site (or all the planner's sites), over which period availability is computed,
    and which page of gateways."""

    site = forms.ModelChoiceField(
        queryset=Site.objects.none(), required=False, empty_label="All my sites"
    )
    days = forms.TypedChoiceField(
        choices=FLEET_PERIODS, coerce=int, initial=7, required=False, label="Availability over"
    )
    page = forms.IntegerField(
        min_value=1, max_value=1_000_000, required=False, widget=forms.HiddenInput
    )

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites
