"""The contracts admin: writes go through the services, choices and rows are scoped."""

from decimal import Decimal

import pytest

from assets.models import Customer
from contracts.models import BusinessCalendar, Contract
from tests.factories import (
    AssetFactory,
    BusinessCalendarFactory,
    ContractFactory,
    SiteFactory,
    SuperuserFactory,
    WorkOrderFactory,
)
from tests.forms import form_data

pytestmark = pytest.mark.django_db

ADD = "/admin/contracts/contract/add/"


def test_a_planner_adds_a_contract_with_a_target_through_the_service(
    logged_in, planner, site, other_site
):
    client = logged_in(planner)
    page = client.get(ADD)
    html = page.content.decode()
    assert f'value="{other_site.pk}"' not in html.split('name="sites"')[1].split("</select>")[0]
    data = form_data(page, "contract_form")
    data.update(
        {
            "customer": site.customer_id,
            "reference": "C-ADM",
            "name": "From the admin",
            "starts_on": "2030-01-01",
            "sites": [site.pk],
            "pausing_hold_reasons": ["waiting_for_client"],
            "not_to_exceed": "500.00",
            "targets-TOTAL_FORMS": "1",
            "targets-0-priority": "1",
            "targets-0-response_hours": "2",
            "targets-0-resolution_hours": "8",
            "targets-0-clock": "business",
        }
    )
    response = client.post(ADD, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    contract = Contract.objects.get(reference="C-ADM")
    assert contract.pausing_hold_reasons == ["waiting_for_client"]
    assert [t.priority for t in contract.targets.all()] == [1]


def test_an_overlapping_contract_shows_the_services_refusal_on_the_form(logged_in, planner, site):
    ContractFactory(sites=[site], reference="C-FIRST")
    client = logged_in(planner)
    data = form_data(client.get(ADD), "contract_form")
    data.update(
        {
            "customer": site.customer_id,
            "reference": "C-SECOND",
            "name": "Overlap",
            "starts_on": "2000-01-01",
            "sites": [site.pk],
        }
    )
    response = client.post(ADD, data)
    assert response.status_code == 200
    assert "C-FIRST" in response.content.decode()
    assert not Contract.objects.filter(reference="C-SECOND").exists()


def test_a_contract_of_another_site_too_is_read_only_and_a_foreign_one_missing(
    logged_in, planner, site, other_site
):
    shared = ContractFactory(sites=[site, SiteFactory(customer=site.customer)])
    foreign = ContractFactory(sites=[other_site])
    client = logged_in(planner)
    page = client.get(f"/admin/contracts/contract/{shared.pk}/change/")
    assert page.status_code == 200
    assert 'name="reference"' not in page.content.decode()
    assert client.get(f"/admin/contracts/contract/{foreign.pk}/change/").status_code == 302
    listed = client.get("/admin/contracts/contract/").content.decode()
    assert shared.reference in listed and foreign.reference not in listed


def test_a_calendar_is_changed_with_its_holidays(logged_in, planner, site):
    calendar = BusinessCalendarFactory(site=site)
    client = logged_in(planner)
    url = f"/admin/contracts/businesscalendar/{calendar.pk}/change/"
    data = form_data(client.get(url), "businesscalendar_form")
    data.update(
        {
            "working_days": ["0", "1", "2"],
            "holidays-TOTAL_FORMS": "1",
            "holidays-0-date": "2030-12-25",
            "holidays-0-name": "Christmas",
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    calendar = BusinessCalendar.objects.get()
    assert calendar.working_days == [0, 1, 2]
    assert [h.name for h in calendar.holidays.all()] == ["Christmas"]


def test_the_sla_warning_and_labour_rate_lists_open_for_planners(logged_in, planner):
    client = logged_in(planner)
    assert client.get("/admin/contracts/slawarning/").status_code == 200
    assert client.get("/admin/contracts/labourrate/").status_code == 200
    assert client.get("/admin/contracts/labourrate/add/").status_code == 403


def test_the_customer_admin_validates_report_recipients(logged_in, site):
    client = logged_in(SuperuserFactory())
    url = f"/admin/assets/customer/{site.customer_id}/change/"
    data = form_data(client.get(url), "customer_form")
    data.update({"currency": "CHF", "report_recipients": "ops@example.com\nnot an address"})
    response = client.post(url, data)
    assert response.status_code == 200
    assert "Not an e-mail address: not an address" in response.content.decode()
    data["report_recipients"] = " ops@example.com \n\nboss@example.com"
    assert client.post(url, data).status_code == 302
    customer = Customer.objects.get(pk=site.customer_id)
    assert customer.currency == "CHF"
    assert customer.report_recipient_list == ["ops@example.com", "boss@example.com"]


def test_the_asset_admin_takes_the_downtime_cost(logged_in, planner, site):
    asset = AssetFactory(site=site)
    client = logged_in(planner)
    url = f"/admin/assets/asset/{asset.pk}/change/"
    data = form_data(client.get(url), "asset_form")
    data["downtime_cost_per_hour"] = "1250.00"
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    asset.refresh_from_db()
    assert asset.downtime_cost_per_hour == Decimal("1250.00")


def test_a_planner_estimates_in_the_work_order_admin_and_sees_the_request(logged_in, planner, site):
    contract = ContractFactory(sites=[site], not_to_exceed=Decimal("100.00"))
    work = WorkOrderFactory(site=site, contract=contract)
    client = logged_in(planner)
    url = f"/admin/workorders/workorder/{work.pk}/change/"
    data = form_data(client.get(url), "workorder_form")
    data["estimated_cost"] = "250.00"
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    work.refresh_from_db()
    assert work.client_approval == "pending"
    assert "Waiting for the client" in client.get(url).content.decode()
