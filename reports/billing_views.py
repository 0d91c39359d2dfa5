"""The billing export page for planners: choose a customer and a month, download the billable
lines (reports.billing) as CSV or XLSX. Served inside the admin (`admin_view`), so only
planners and superusers get in; customers and sites are those the planner may see."""

from django import forms
from django.contrib import admin
from django.http import HttpResponse
from django.template.response import TemplateResponse

from assets.models import Customer, Site
from reports.billing import billing_csv, billing_lines, billing_total, billing_xlsx
from reports.months import FIRST_YEAR, LAST_YEAR, month_bounds, month_exists, sites_zone

FORMATS = {
    "csv": ("text/csv; charset=utf-8", billing_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", billing_xlsx),
}


class BillingForm(forms.Form):
    customer = forms.ModelChoiceField(queryset=Customer.objects.none())
    month = forms.DateField(
        input_formats=["%Y-%m"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        help_text="The month billed (YYYY-MM).",
    )
    format = forms.ChoiceField(
        choices=[("", "Show on this page"), ("csv", "CSV"), ("xlsx", "XLSX")], required=False
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = Customer.objects.for_user(user).order_by("name")

    def clean_month(self):
        month = self.cleaned_data["month"]
        if not month_exists(month):
            raise forms.ValidationError(
                f"Pick a month of the years {FIRST_YEAR} to {LAST_YEAR}.", code="out_of_range"
            )
        return month


def billing_export(request):
    form = BillingForm(request.GET or None, user=request.user)
    lines = None
    if form.is_valid():
        customer = form.cleaned_data["customer"]
        sites = list(Site.objects.for_user(request.user).filter(customer=customer))
        # The month in the sites' zone, as the monthly report counts it (docs/costs.md).
        start, end = month_bounds(form.cleaned_data["month"], sites_zone(sites))
        lines = billing_lines(
            customer=customer, start=start, end=end, sites=[site.pk for site in sites]
        )
        kind = form.cleaned_data["format"]
        if kind:
            content_type, render = FORMATS[kind]
            name = f"billing-{customer.pk}-{start:%Y-%m}.{kind}"
            response = HttpResponse(render(lines), content_type=content_type)
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
    context = {
        **admin.site.each_context(request),
        "title": "Billing export",
        "form": form,
        "lines": lines,
        "total": billing_total(lines) if lines else None,
    }
    return TemplateResponse(request, "admin/reports/billing.html", context)
