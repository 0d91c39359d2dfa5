"""Costs on the pages: the admin work order (cost so far, external services inline) and the
technician's overtime checkbox."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import LabourRateFactory, ServiceLineFactory, WorkOrderFactory, move_to
from tests.forms import form_data
from workorders.choices import Status
from workorders.models import ServiceLine

pytestmark = pytest.mark.django_db


@pytest.fixture
def work(site, pump, technician):
    LabourRateFactory(hourly_cost=Decimal("40.00"), overtime_hourly_cost=Decimal("60.00"))
    return move_to(WorkOrderFactory(site=site, asset=pump, assignee=technician), Status.IN_PROGRESS)


def change_url(work):
    return reverse("admin:workorders_workorder_change", args=[work.pk])


def test_the_admin_work_order_shows_its_cost_so_far(client_for, planner, work):
    ServiceLineFactory(work_order=work, amount=Decimal("12.34"))
    page = client_for(planner).get(change_url(work)).content.decode()
    assert "labour 0.00 + parts 0.00 + services 12.34 = 12.34 EUR" in page


def test_service_lines_added_in_the_admin_go_through_the_service(client_for, planner, work):
    client = client_for(planner)
    data = form_data(client.get(change_url(work)), "workorder_form")
    n = int(data["services-TOTAL_FORMS"])
    data.update(
        {
            "services-TOTAL_FORMS": str(n + 1),
            f"services-{n}-vendor": "  Crane Co ",
            f"services-{n}-description": "Crane hire",
            f"services-{n}-amount": "250.00",
        }
    )
    response = client.post(change_url(work), data)
    assert response.status_code == 302
    line = ServiceLine.objects.get(work_order=work)
    assert (line.vendor, line.amount, line.created_by) == ("Crane Co", Decimal("250.00"), planner)


def test_the_technicians_overtime_checkbox_books_overtime(client_for, technician, work):
    response = client_for(technician).post(
        f"/tech/work-orders/{work.pk}/labour/", {"hours": "2", "overtime": "on"}
    )
    assert response.status_code == 302
    entry = work.labour.get(automatic=False)
    assert (entry.overtime, entry.cost) == (True, Decimal("120.00"))  # 2 h x 60.00


def test_the_technicians_labour_form_offers_overtime(client_for, technician, work):
    page = client_for(technician).get(f"/tech/work-orders/{work.pk}/").content.decode()
    assert 'name="overtime"' in page


def test_the_cost_page_rolls_up_the_planners_sites_only(client_for, planner, work, other_site):
    ServiceLineFactory(work_order=work, amount=Decimal("7.00"))
    ServiceLineFactory(work_order=WorkOrderFactory(site=other_site), amount=Decimal("999.00"))
    today = timezone.localdate()
    page = client_for(planner).get(
        "/reports/costs/",
        {"group_by": "site", "start": today, "end": today + timedelta(days=1)},
    )
    assert page.status_code == 200
    rows = page.context["rows"]
    assert [(name, cost.total) for name, cost in rows] == [(work.site.name, Decimal("7.00"))]


def test_the_cost_page_refuses_a_period_that_ends_before_it_starts(client_for, planner):
    page = client_for(planner).get(
        "/reports/costs/", {"group_by": "site", "start": "2026-02-01", "end": "2026-01-01"}
    )
    assert page.context["rows"] is None
    assert "The period must end after it starts." in page.content.decode()


@pytest.mark.parametrize("start, end", [("0001-01-01", "2026-01-01"), ("2026-01-01", "9999-12-31")])
def test_the_cost_page_refuses_days_the_api_refuses(client_for, planner, start, end):
    page = client_for(planner).get(
        "/reports/costs/", {"group_by": "site", "start": start, "end": end}
    )
    assert page.status_code == 200
    assert page.context["rows"] is None
    assert "Pick a day of the years 2 to 9998." in page.content.decode()
