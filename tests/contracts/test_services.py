"""Writing contracts and business calendars: what the services accept and refuse."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditEntry
from cmms.errors import NotPermitted
from contracts import services
from contracts.models import Contract
from tests.factories import (
    AssetFactory,
    BusinessCalendarFactory,
    ContractFactory,
    PlannerFactory,
    SiteFactory,
    SkillFactory,
)

pytestmark = pytest.mark.django_db

D = datetime.date
TARGETS = [
    {"priority": 1, "response_hours": Decimal("2"), "resolution_hours": Decimal("8")},
    {"priority": 3, "response_hours": Decimal("8"), "resolution_hours": Decimal("40")},
]


def create(**kwargs):
    site = kwargs.pop("site", None) or SiteFactory()
    values = {
        "customer": site.customer,
        "reference": "C-1",
        "name": "Full service",
        "sites": [site],
        "starts_on": D(2030, 1, 1),
    }
    values.update(kwargs)
    return services.contract_create(**values)


def test_it_creates_a_contract_with_its_targets_and_billing_rates_and_audits_it(site, planner):
    skill = SkillFactory(code="electrical")
    contract = create(
        site=site,
        by=planner,
        targets=TARGETS,
        billing_rates=[{"skill": skill, "hourly_rate": Decimal("95.00")}],
        pausing_hold_reasons=["waiting_for_client"],
    )
    assert [t.priority for t in contract.targets.all()] == [1, 3]
    assert contract.billing_rates.get().hourly_rate == Decimal("95.00")
    assert list(contract.sites.all()) == [site]
    entry = AuditEntry.objects.get(action="contract.create")
    assert (entry.actor, entry.object_id) == (planner, str(contract.pk))


def test_a_site_of_another_customer_is_refused_naming_sites(site, other_site):
    with pytest.raises(ValidationError) as refused:
        create(site=site, sites=[site, other_site])
    assert "sites" in refused.value.message_dict
    assert "south" in refused.value.message_dict["sites"][0]


def test_an_asset_outside_the_contracts_sites_is_refused(site, other_site):
    elsewhere = AssetFactory(site=SiteFactory(customer=site.customer))
    with pytest.raises(ValidationError) as refused:
        create(site=site, assets=[elsewhere])
    assert "assets" in refused.value.message_dict


def test_an_unknown_pausing_hold_reason_is_refused(site):
    with pytest.raises(ValidationError) as refused:
        create(site=site, pausing_hold_reasons=["lunch_break"])
    assert "pausing_hold_reasons" in refused.value.message_dict


def test_a_resolution_shorter_than_the_response_is_refused(site):
    bad = [{"priority": 2, "response_hours": Decimal("8"), "resolution_hours": Decimal("4")}]
    with pytest.raises(ValidationError) as refused:
        create(site=site, targets=bad)
    assert "targets" in refused.value.message_dict
    assert not Contract.objects.exists()


def test_two_targets_for_one_priority_are_refused(site):
    with pytest.raises(ValidationError) as refused:
        create(site=site, targets=[TARGETS[0], TARGETS[0]])
    assert "One target per priority." in refused.value.message_dict["targets"]


@pytest.mark.parametrize(
    ("starts_on", "ends_on"),
    [(D(2030, 6, 1), None), (D(2029, 1, 1), D(2030, 1, 1)), (D(2029, 1, 1), None)],
)
def test_a_second_active_contract_on_overlapping_dates_is_refused_naming_the_first(
    site, starts_on, ends_on
):
    create(site=site, reference="C-FIRST")
    with pytest.raises(ValidationError) as refused:
        create(site=site, reference="C-2", starts_on=starts_on, ends_on=ends_on)
    assert "C-FIRST" in refused.value.message_dict["sites"][0]


def test_contracts_on_disjoint_dates_or_disjoint_assets_or_inactive_do_not_overlap(site):
    a, b = AssetFactory(site=site), AssetFactory(site=site)
    create(site=site, reference="C-OLD", starts_on=D(2029, 1, 1), ends_on=D(2029, 12, 31))
    create(site=site, reference="C-A", assets=[a])
    create(site=site, reference="C-B", assets=[b])
    create(site=site, reference="C-OFF", is_active=False)
    assert Contract.objects.count() == 4


def test_contracts_listing_the_same_asset_overlap_naming_assets(site):
    pump = AssetFactory(site=site)
    create(site=site, reference="C-A", assets=[pump])
    with pytest.raises(ValidationError) as refused:
        create(site=site, reference="C-B", assets=[pump])
    assert "C-A" in refused.value.message_dict["assets"][0]


def test_reactivating_a_contract_over_another_is_refused(site):
    first = create(site=site, reference="C-1", is_active=False)
    create(site=site, reference="C-2")
    with pytest.raises(ValidationError) as refused:
        services.contract_update(contract=first, is_active=True)
    assert "C-2" in refused.value.message_dict["sites"][0]


def test_a_planner_of_only_some_of_the_sites_may_not_write_the_contract(site):
    second = SiteFactory(customer=site.customer)
    planner = PlannerFactory(sites=[site])
    with pytest.raises(NotPermitted):
        create(site=site, sites=[site, second], by=planner)
    contract = create(site=site, sites=[site, second])
    with pytest.raises(NotPermitted):
        services.contract_update(contract=contract, name="Renamed", by=planner)


def test_a_planner_may_not_move_a_contract_to_a_site_they_do_not_plan(site, planner):
    contract = create(site=site, by=planner)
    second = SiteFactory(customer=site.customer)
    with pytest.raises(NotPermitted):
        services.contract_update(contract=contract, sites=[second], by=planner)


def test_updating_replaces_the_targets_and_keeps_what_was_not_given(site, planner):
    contract = ContractFactory(sites=[site], targets=TARGETS, labour_rate=Decimal("80"))
    services.contract_update(
        contract=contract,
        targets=[{"priority": 2, "response_hours": Decimal("4"), "resolution_hours": Decimal("4")}],
        by=planner,
    )
    contract.refresh_from_db()
    assert [t.priority for t in contract.targets.all()] == [2]
    assert contract.labour_rate == Decimal("80")
    entry = AuditEntry.objects.get(action="contract.update")
    assert entry.changes == {"targets": "replaced"}


def test_a_calendar_replaces_its_holidays_and_refuses_an_empty_week(site, planner):
    calendar = services.business_calendar_create(
        site=site, by=planner, holidays=[{"date": D(2030, 12, 25), "name": "Christmas"}]
    )
    services.business_calendar_update(
        calendar=calendar, holidays=[{"date": D(2030, 1, 1), "name": "New year"}], by=planner
    )
    assert [h.name for h in calendar.holidays.all()] == ["New year"]
    with pytest.raises(ValidationError) as refused:
        services.business_calendar_update(calendar=calendar, working_days=[], by=planner)
    assert "working_days" in refused.value.message_dict


def test_a_site_has_one_calendar_and_only_its_planners_write_it(site, other_site, planner):
    BusinessCalendarFactory(site=site)
    with pytest.raises(ValidationError):
        services.business_calendar_create(site=site)
    with pytest.raises(NotPermitted):
        services.business_calendar_create(site=other_site, by=planner)


def test_a_holiday_is_added_once_per_date(site, planner):
    calendar = BusinessCalendarFactory(site=site)
    services.holiday_add(calendar=calendar, date=D(2030, 5, 1), name="Labour day", by=planner)
    with pytest.raises(ValidationError):
        services.holiday_add(calendar=calendar, date=D(2030, 5, 1), name="Again", by=planner)
