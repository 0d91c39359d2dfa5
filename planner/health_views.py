"""The planner's "Asset health" page: one customer's assets, worst first, with the score's
reasons, its definition and the criticality x health chart (docs/monitoring.md).

Served by the admin site like the other planner pages (`admin_view`). The customers offered
are those of the planner's sites, and the assets are the planner's sites' assets of that
customer: a customer the planner does not serve answers 404, exactly like a missing one.
"""

from django.contrib import admin
from django.core.paginator import Paginator
from django.http import Http404
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from assets.models import Asset, Customer
from cmms.inputs import parse_id
from condition import health

PAGE_SIZE = 50


@require_GET
def asset_health(request):
    """One customer's scored assets (every one scored in one query, one page shown), the
    bands and the criticality x health grid."""
    user = request.user
    customers = list(Customer.objects.for_user(user).order_by("name"))
    customer = _chosen_customer(request, customers)
    scored = []
    if customer is not None:
        assets = Asset.objects.for_user(user).filter(site__customer=customer)
        scored = health.health_of_assets(assets, now=timezone.now())
    page = Paginator(scored, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        **admin.site.each_context(request),
        "title": "Asset health",
        "customers": customers,
        "customer": customer,
        "total": len(scored),
        "page": page,
        "bands": health.band_counts(scored),
        "definition": health.DEFINITION,
        "chart": health.criticality_health_chart(scored),
        "now": timezone.now(),
    }
    return TemplateResponse(request, "admin/planner/health.html", context)


def _chosen_customer(request, customers: list):
    """The customer asked for, the first one when none is, or 404 for one the planner does
    not serve (or an id that is not one)."""
    if "customer" not in request.GET:
        return customers[0] if customers else None
    customer_id = parse_id(request.GET["customer"])
    for customer in customers:
        if customer.pk == customer_id:
            return customer
    raise Http404("No such customer.")
