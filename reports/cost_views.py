"""The planners' cost roll-up page: costs incurred in a period per asset, site, customer or
work order (workorders.costs), over the work orders of their sites. Served inside the admin
(`admin_view`), like the billing export."""

from django import forms
from django.contrib import admin
from django.template.response import TemplateResponse

from workorders.costs import PERIOD_YEARS, costs_by, group_labels, period_bound
from workorders.models import WorkOrder

GROUP_CHOICES = [
    ("asset", "Asset"),
    ("site", "Site"),
    ("customer", "Customer"),
    ("work_order", "Work order"),
]


class CostPeriodForm(forms.Form):
    group_by = forms.ChoiceField(choices=GROUP_CHOICES, initial="asset")
    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To (exclusive)", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        for name in ("start", "end"):  # as the API (workorders.costs.PERIOD_YEARS)
            if data.get(name) and data[name].year not in PERIOD_YEARS:
                self.add_error(name, "Pick a day of the years 2 to 9998.")
                return data
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            raise forms.ValidationError("The period must end after it starts.")
        return data


def cost_rollup(request):
    form = CostPeriodForm(request.GET or None)
    rows = None
    if form.is_valid():
        group = form.cleaned_data["group_by"]
        costs = costs_by(
            work_orders=WorkOrder.objects.for_user(request.user),
            start=period_bound(form.cleaned_data["start"]),
            end=period_bound(form.cleaned_data["end"]),
            group=group,
        )
        names = group_labels(group, costs)
        rows = sorted(
            ((names.get(pk, "(no asset)"), cost) for pk, cost in costs.items()),
            key=lambda row: -row[1].total,
        )
    context = {
        **admin.site.each_context(request),
        "title": "Costs",
        "form": form,
        "rows": rows,
    }
    return TemplateResponse(request, "admin/reports/costs.html", context)
