"""/api/v1/contracts/ and /api/v1/business-calendars/: scoped reads, service-backed writes."""

import datetime
from decimal import Decimal

import pytest

from contracts.models import Contract
from tests.factories import (
    AssetFactory,
    BusinessCalendarFactory,
    ContractFactory,
    CustomerViewerFactory,
    PlannerFactory,
    SiteFactory,
    SkillFactory,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/contracts/"
CALENDARS = "/api/v1/business-calendars/"


def body(site, **extra):
    return {
        "customer": site.customer_id,
        "reference": "C-2030-001",
        "name": "Full service",
        "sites": [site.pk],
        "starts_on": "2030-01-01",
        "not_to_exceed": "2500.00",
        "pausing_hold_reasons": ["waiting_for_client"],
        "targets": [
            {"priority": 1, "response_hours": "2", "resolution_hours": "8"},
            {"priority": 2, "response_hours": "4", "resolution_hours": "16", "clock": "calendar"},
        ],
        "billing_rates": [{"skill": "electrical", "hourly_rate": "95.00"}],
        **extra,
    }


def test_a_planner_creates_a_contract_with_nested_targets_and_rates(as_user, planner, site):
    SkillFactory(code="electrical")
    response = as_user(planner).post(URL, body(site), format="json")
    assert response.status_code == 201, response.data
    assert response.data["currency"] == "EUR"
    assert [t["priority"] for t in response.data["targets"]] == [1, 2]
    assert response.data["targets"][1]["clock"] == "calendar"
    assert response.data["billing_rates"] == [{"skill": "electrical", "hourly_rate": "95.00"}]
    contract = Contract.objects.get()
    assert contract.not_to_exceed == Decimal("2500.00")


def test_an_overlapping_contract_is_a_400_naming_sites_and_the_other_contract(
    as_user, planner, site
):
    ContractFactory(sites=[site], reference="C-EXISTING")
    response = as_user(planner).post(URL, body(site, targets=[], billing_rates=[]), format="json")
    assert response.status_code == 400
    assert "C-EXISTING" in response.data["sites"][0]


def test_an_unknown_hold_reason_and_a_short_resolution_are_400s(as_user, planner, site):
    response = as_user(planner).post(
        URL, body(site, pausing_hold_reasons=["nap"], billing_rates=[]), format="json"
    )
    assert response.status_code == 400
    assert "pausing_hold_reasons" in response.data
    short = [{"priority": 1, "response_hours": "8", "resolution_hours": "2"}]
    response = as_user(planner).post(
        URL, body(site, targets=short, billing_rates=[]), format="json"
    )
    assert response.status_code == 400
    assert "targets" in response.data


def test_a_foreign_site_in_the_body_answers_like_a_missing_one(as_user, planner, site, other_site):
    response = as_user(planner).post(
        URL, body(site, sites=[other_site.pk], billing_rates=[]), format="json"
    )
    assert response.status_code == 400
    assert "sites" in response.data
    assert "does not exist" in str(response.data["sites"])


def test_patch_replaces_targets_only_when_sent(as_user, planner, site):
    contract = ContractFactory(
        sites=[site],
        targets=[{"priority": 1, "response_hours": Decimal(2), "resolution_hours": Decimal(8)}],
    )
    url = f"{URL}{contract.pk}/"
    response = as_user(planner).patch(url, {"name": "Renamed"}, format="json")
    assert response.status_code == 200, response.data
    assert [t["priority"] for t in response.data["targets"]] == [1]
    response = as_user(planner).patch(url, {"targets": []}, format="json")
    assert response.data["targets"] == []


def test_a_planner_of_one_of_two_sites_reads_but_may_not_change_the_contract(as_user, site):
    second = SiteFactory(customer=site.customer)
    contract = ContractFactory(sites=[site, second])
    planner = PlannerFactory(sites=[site])
    url = f"{URL}{contract.pk}/"
    assert as_user(planner).get(url).status_code == 200
    response = as_user(planner).patch(url, {"name": "Mine now"}, format="json")
    assert response.status_code == 403
    assert response.data["code"] == "not_permitted"


def test_reads_are_scoped_and_filtered(as_user, planner, viewer, technician, site, other_site):
    own = ContractFactory(sites=[site], reference="C-OWN")
    ContractFactory(sites=[other_site], reference="C-FOREIGN")
    ContractFactory(sites=[site], reference="C-OLD", is_active=False)
    for user in (planner, viewer):
        listed = as_user(user).get(URL, {"ordering": "reference"}).data["results"]
        assert [c["reference"] for c in listed] == ["C-OLD", "C-OWN"]
    active = as_user(planner).get(URL, {"is_active": "true"}).data["results"]
    assert [c["id"] for c in active] == [own.pk]
    in_force = as_user(planner).get(URL, {"in_force_on": "2000-01-01"}).data["results"]
    assert in_force == []
    assert as_user(planner).get(URL, {"site": other_site.pk}).status_code == 400
    assert as_user(technician).get(URL).status_code == 403


def test_a_customer_viewer_reads_their_contract_but_writes_nothing(as_user, viewer, site):
    contract = ContractFactory(sites=[site], labour_rate=Decimal("80"))
    url = f"{URL}{contract.pk}/"
    response = as_user(viewer).get(url)
    assert response.status_code == 200
    assert response.data["labour_rate"] == "80.00"
    assert as_user(viewer).patch(url, {"name": "x"}, format="json").status_code == 403


def test_a_foreign_contract_is_a_404_like_a_missing_one(as_user, planner, other_site):
    foreign = ContractFactory(sites=[other_site])
    assert as_user(planner).get(f"{URL}{foreign.pk}/").status_code == 404
    assert as_user(planner).get(f"{URL}999999/").status_code == 404


def test_contracts_are_not_deleted(as_user, superuser, site):
    contract = ContractFactory(sites=[site])
    assert as_user(superuser).delete(f"{URL}{contract.pk}/").status_code == 405


def test_a_contract_listing_assets_only_takes_assets_of_its_sites(as_user, planner, site):
    pump = AssetFactory(site=site)
    response = as_user(planner).post(
        URL, body(site, assets=[pump.pk], billing_rates=[]), format="json"
    )
    assert response.status_code == 201, response.data
    assert response.data["assets"] == [pump.pk]


def test_a_planner_creates_and_changes_a_calendar_with_holidays(as_user, planner, site):
    response = as_user(planner).post(
        CALENDARS,
        {
            "site": site.pk,
            "working_days": [0, 1, 2, 3, 4, 5],
            "day_starts": "07:00",
            "day_ends": "19:00",
            "holidays": [{"date": "2030-12-25", "name": "Christmas"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.data
    assert response.data["timezone"] == "Europe/Berlin"
    url = f"{CALENDARS}{response.data['id']}/"
    response = as_user(planner).patch(
        url, {"holidays": [{"date": "2030-01-01", "name": "New year"}]}, format="json"
    )
    assert response.status_code == 200, response.data
    assert response.data["holidays"] == [{"date": "2030-01-01", "name": "New year"}]
    assert response.data["working_days"] == [0, 1, 2, 3, 4, 5]


def test_calendar_refusals(as_user, planner, technician, site):
    BusinessCalendarFactory(site=site)
    response = as_user(planner).post(CALENDARS, {"site": site.pk}, format="json")
    assert response.status_code == 400
    assert "site" in response.data
    calendar = site.business_calendar
    url = f"{CALENDARS}{calendar.pk}/"
    response = as_user(planner).patch(url, {"day_ends": "06:00"}, format="json")
    assert response.status_code == 400
    assert "day_ends" in response.data
    response = as_user(planner).patch(url, {"working_days": [7]}, format="json")
    assert response.status_code == 400
    assert as_user(technician).get(url).status_code == 200
    assert as_user(technician).patch(url, {"day_ends": "18:00"}, format="json").status_code == 403


def test_a_viewer_of_another_site_does_not_see_the_calendar(as_user, site, other_site):
    calendar = BusinessCalendarFactory(site=site)
    stranger = CustomerViewerFactory(sites=[other_site])
    assert as_user(stranger).get(f"{CALENDARS}{calendar.pk}/").status_code == 404
    assert as_user(stranger).get(CALENDARS).data["results"] == []


def test_ends_on_before_starts_on_is_a_400(as_user, planner, site):
    response = as_user(planner).post(
        URL, body(site, ends_on="2029-01-01", billing_rates=[]), format="json"
    )
    assert response.status_code == 400
    assert "ends_on" in response.data


def test_dates_are_echoed_as_iso_days(as_user, planner, site):
    contract = ContractFactory(sites=[site], starts_on=datetime.date(2030, 2, 1))
    assert as_user(planner).get(f"{URL}{contract.pk}/").data["starts_on"] == "2030-02-01"
