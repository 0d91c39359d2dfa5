"""The monthly client report as a page and as a PDF, and the index of reports a reader may open.

Readers are the client's viewers and the planners (`reports.policy`); each sees the customers
of their own sites and only their sites' data. Another customer, a site of another customer or
a month that does not exist answer 404, exactly like a missing customer.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from assets.models import Customer, Site
from cmms.inputs import parse_id
from reports import policy
from reports.figures import monthly_report, report_scope
from reports.months import parse_month, previous_month
from reports.pdf import PdfUnavailable, render_report_pdf, report_context, report_filename

INDEX_MONTHS = 12


def reader_required(view):
    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not policy.may_read_reports(request.user):
            raise PermissionDenied(policy.REPORTS_ARE_FOR_VIEWERS_AND_PLANNERS)
        return view(request, *args, **kwargs)

    return wrapped


def _recent_months(count: int = INDEX_MONTHS) -> list:
    """This month and the `count - 1` before it, newest first."""
    month = timezone.localdate().replace(day=1)
    months = []
    for _ in range(count):
        months.append(month)
        month = previous_month(month)
    return months


@require_GET
@reader_required
def index(request):
    """The customers the reader may see, each with its recent months; a month picker."""
    customers = list(
        Customer.objects.for_user(request.user).order_by("name").prefetch_related("sites")
    )
    visible_sites = request.user.site_ids()
    error = ""
    if "customer" in request.GET or "month" in request.GET:
        customer_id = parse_id(request.GET.get("customer", ""))
        month = parse_month(request.GET.get("month", ""))
        if month and any(c.pk == customer_id for c in customers):
            return redirect("reports:report", pk=customer_id, month=f"{month:%Y-%m}")
        error = "Pick one of your customers and a month."
    rows = [
        (
            customer,
            [s for s in customer.sites.all() if visible_sites is None or s.pk in visible_sites],
        )
        for customer in customers
    ]
    context = {"rows": rows, "months": _recent_months(), "error": error}
    return render(request, "reports/index.html", context)


def _report(request, pk: str, month: str):
    """The report the reader asked for, or 404."""
    first_day = parse_month(month)
    customer = Customer.objects.for_user(request.user).filter(pk=parse_id(pk)).first()
    if first_day is None or customer is None:
        raise Http404("No such customer or month.")
    site = None
    if "site" in request.GET:
        site_id = parse_id(request.GET["site"])
        site = Site.objects.for_user(request.user).filter(pk=site_id, customer=customer).first()
        if site is None:
            raise Http404("No such site of this customer.")
    scope = report_scope(customer=customer, month=first_day, site=site, user=request.user)
    return monthly_report(scope)


@require_GET
@reader_required
def report_page(request, pk, month):
    report = _report(request, pk, month)
    context = report_context(report)
    query = f"?site={report.scope.site.pk}" if report.scope.site else ""
    context["pdf_url"] = reverse("reports:report-pdf", args=[pk, month]) + query
    return render(request, "reports/page.html", context)


@require_GET
@reader_required
def report_pdf(request, pk, month):
    report = _report(request, pk, month)
    try:
        document = render_report_pdf(report)
    except PdfUnavailable:
        return HttpResponse(
            "The PDF cannot be made on this server: WeasyPrint needs the Pango libraries "
            "(apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0). "
            "The report's page has every figure.",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(document, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{report_filename(report)}"'
    return response
