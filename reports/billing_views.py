"""The billing export page for planners: choose a customer and a month, download the billable
lines (reports.billing) as CSV or XLSX. Served inside the admin (`admin_view`), so only
planners and superusers get in; customers and sites are those the planner may see."""

from datetime import date, datetime, time

from django import forms
from django.contrib import admin
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from assets.models import Customer, Site
from reports.billing import billing_csv, billing_lines, billing_total, billing_xlsx

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


def _month(first: date) -> tuple[datetime, datetime]:
    """The month as [midnight of its first day, midnight of the next month's), server time."""
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return (
        timezone.make_aware(datetime.combine(first, time.min)),
        timezone.make_aware(datetime.combine(following, time.min)),
    )


def billing_export(request):
    form = BillingForm(request.GET or None, user=request.user)
    lines = None
    if form.is_valid():
        customer = form.cleaned_data["customer"]
        start, end = _month(form.cleaned_data["month"])
        sites = Site.objects.for_user(request.user).filter(customer=customer)
        lines = billing_lines(customer=customer, start=start, end=end, sites=sites)
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
