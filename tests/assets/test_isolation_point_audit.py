"""Isolation points are written in the asset's admin page (inline); every add, change and
deletion is in the audit trail at the asset's site, and only that site's planners read it."""

import pytest

from assets.models import IsolationPoint
from audit.choices import AuditAction
from audit.models import AuditEntry
from tests.factories import PlannerFactory
from tests.forms import form_data

pytestmark = pytest.mark.django_db


def change_url(asset):
    return f"/admin/assets/asset/{asset.pk}/change/"


@pytest.fixture
def client(logged_in, planner):
    return logged_in(planner)


@pytest.fixture
def breaker(pump):
    return IsolationPoint.objects.create(
        asset=pump, position=1, code="E-4", method="Breaker 4 open, lock and tag"
    )


def asset_form(client, asset) -> dict:
    return form_data(client.get(change_url(asset)), "asset_form")


def test_adding_an_isolation_point_records_it_at_the_assets_site(client, planner, pump, site):
    data = asset_form(client, pump)
    data |= {
        "isolation_points-TOTAL_FORMS": "1",
        "isolation_points-0-position": "1",
        "isolation_points-0-code": "V-7",
        "isolation_points-0-energy_type": "hydraulic",
        "isolation_points-0-location": "Pump skid",
        "isolation_points-0-method": "Close valve 7, lock",
    }

    response = client.post(change_url(pump), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    point = IsolationPoint.objects.get(asset=pump)
    entry = AuditEntry.objects.get()
    assert entry.action == AuditAction.ISOLATION_POINT_CREATE
    assert (entry.site, entry.actor, entry.object_id) == (site, planner, str(point.pk))
    assert entry.changes == {
        "asset": pump.tag,
        "position": [None, 1],
        "code": [None, "V-7"],
        "energy_type": [None, "hydraulic"],
        "location": [None, "Pump skid"],
        "method": [None, "Close valve 7, lock"],
    }


def test_changing_an_isolation_point_records_only_what_changed(client, pump, site, breaker):
    data = asset_form(client, pump)
    data["isolation_points-0-method"] = "Breaker 4 open, lock, tag and test"

    response = client.post(change_url(pump), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.site, entry.object_id) == (
        AuditAction.ISOLATION_POINT_UPDATE,
        site,
        str(breaker.pk),
    )
    assert entry.changes == {
        "asset": pump.tag,
        "method": ["Breaker 4 open, lock and tag", "Breaker 4 open, lock, tag and test"],
    }


def test_deleting_an_isolation_point_records_what_it_was(client, pump, site, breaker):
    data = asset_form(client, pump)
    data["isolation_points-0-DELETE"] = "on"

    response = client.post(change_url(pump), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert not IsolationPoint.objects.exists()
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.site, entry.object_id) == (
        AuditAction.ISOLATION_POINT_DELETE,
        site,
        str(breaker.pk),
    )
    assert entry.changes["code"] == ["E-4", None]
    assert entry.changes["method"] == ["Breaker 4 open, lock and tag", None]


def test_saving_the_asset_unchanged_records_nothing(client, pump, breaker):
    response = client.post(change_url(pump), asset_form(client, pump))

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert not AuditEntry.objects.exists()


def test_a_duplicate_code_is_a_form_error_and_records_nothing(client, pump, breaker):
    data = asset_form(client, pump)
    data |= {
        "isolation_points-TOTAL_FORMS": "2",
        "isolation_points-1-position": "2",
        "isolation_points-1-code": "E-4",
        "isolation_points-1-energy_type": "electrical",
        "isolation_points-1-method": "Again",
    }

    response = client.post(change_url(pump), data)

    assert response.status_code == 200
    assert IsolationPoint.objects.count() == 1
    assert not AuditEntry.objects.exists()


def test_a_planner_of_another_site_does_not_see_the_entries(
    client, logged_in, pump, other_site, breaker
):
    data = asset_form(client, pump)
    data["isolation_points-0-code"] = "E-5"
    client.post(change_url(pump), data)
    entry = AuditEntry.objects.get(action=AuditAction.ISOLATION_POINT_UPDATE)

    stranger = logged_in(PlannerFactory(sites=[other_site]))
    listing = stranger.get("/admin/audit/auditentry/")
    detail = stranger.get(f"/admin/audit/auditentry/{entry.pk}/change/")

    assert listing.status_code == 200
    assert "E-5" not in listing.content.decode()
    assert detail.status_code == 302  # Django's admin: no such entry, back to the index
    mine = client.get("/admin/audit/auditentry/")
    assert "E-5" in mine.content.decode()
