"""Inspection routes, their points and each point's checks are written in the admin through
`pm.services.routes`: every create, change and deletion is in the audit trail against the
route, at its site, with what changed; a planner of another site reads none of it."""

from decimal import Decimal

import pytest

from audit.choices import AuditAction
from audit.models import AuditEntry
from pm.models import Route, RouteCheck, RoutePoint
from tests.factories import (
    AssetFactory,
    PlannerFactory,
    RouteCheckFactory,
    RouteFactory,
    RoutePointFactory,
)
from tests.forms import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(logged_in, planner):
    return logged_in(planner)


@pytest.fixture
def route(site, pump):
    route = RouteFactory(site=site, code="R-1", name="Pump house walk")
    point = RoutePointFactory(route=route, position=1, asset=pump, instruction="Look")
    RouteCheckFactory(point=point, position=1, label="No leaks")
    return route


def route_url(route):
    return f"/admin/pm/route/{route.pk}/change/"


def point_url(point):
    return f"/admin/pm/routepoint/{point.pk}/change/"


def test_creating_a_route_with_its_points_records_one_entry(client, planner, site, pump):
    data = form_data(client.get("/admin/pm/route/add/"), "route_form")
    data |= {
        "site": site.pk,
        "code": "R-9",
        "name": "Night walk",
        "interval": "1",
        "interval_unit": "day",
        "starts_on": "2025-06-02",
        "due_time": "08:00",
        "lead_hours": "12",
        "grace_hours": "4",
        "points-TOTAL_FORMS": "1",
        "points-0-position": "1",
        "points-0-asset": pump.pk,
        "points-0-instruction": "Listen",
    }

    response = client.post("/admin/pm/route/add/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    route = Route.objects.get(code="R-9")
    assert route.points.get().asset == pump
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.site, entry.actor) == (AuditAction.ROUTE_CREATE, site, planner)
    assert entry.object_id == str(route.pk)
    assert entry.changes["code"] == [None, "R-9"]
    assert entry.changes["site"] == [None, site.pk]
    assert entry.changes["points"] == {"added": [f"1. {pump.tag}"]}


def test_changing_a_route_and_its_points_records_fields_and_rows(client, site, pump, route):
    fan = AssetFactory(site=site, tag="F-1")
    data = form_data(client.get(route_url(route)), "route_form")
    data |= {
        "name": "Pump house round",
        "points-0-instruction": "Look and listen",
        "points-TOTAL_FORMS": "2",
        "points-1-position": "2",
        "points-1-asset": fan.pk,
        "points-1-instruction": "",
    }

    response = client.post(route_url(route), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.site) == (AuditAction.ROUTE_UPDATE, site)
    assert entry.changes == {
        "name": ["Pump house walk", "Pump house round"],
        "points": {
            "changed": {f"1. {pump.tag}": {"instruction": ["Look", "Look and listen"]}},
            "added": ["2. F-1"],
        },
    }


def test_deleting_a_point_in_the_routes_page_is_recorded(client, site, pump, route):
    data = form_data(client.get(route_url(route)), "route_form")
    data["points-0-DELETE"] = "on"

    response = client.post(route_url(route), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert not RoutePoint.objects.exists() and not RouteCheck.objects.exists()
    entry = AuditEntry.objects.get()
    assert entry.action == AuditAction.ROUTE_UPDATE
    assert entry.changes == {"points": {"deleted": [f"1. {pump.tag}"]}}


def test_saving_a_route_unchanged_records_nothing(client, route):
    response = client.post(route_url(route), form_data(client.get(route_url(route)), "route_form"))

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert not AuditEntry.objects.exists()


def test_checks_changed_on_a_points_page_are_recorded_against_the_route(
    client, planner, site, pump, route
):
    point = route.points.get()
    data = form_data(client.get(point_url(point)), "routepoint_form")
    data |= {
        "checks-0-label": "No leaks at the seal",
        "checks-1-position": "2",
        "checks-1-kind": "reading",
        "checks-1-label": "Bearing temperature",
        "checks-1-unit": "°C",
        "checks-1-high": "80",
    }

    response = client.post(point_url(point), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert point.checks.get(label="Bearing temperature").high == Decimal("80")
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.site, entry.actor) == (AuditAction.ROUTE_UPDATE, site, planner)
    assert entry.object_id == str(route.pk)
    label = f"1. {pump.tag}"
    assert entry.changes == {
        "checks": {
            "changed": {
                f"{label}: No leaks at the seal": {"label": ["No leaks", "No leaks at the seal"]}
            },
            "added": [f"{label}: Bearing temperature"],
        }
    }


def test_a_check_with_limits_on_a_pass_fail_check_is_refused_and_not_recorded(client, route):
    point = route.points.get()
    data = form_data(client.get(point_url(point)), "routepoint_form")
    data |= {"checks-0-high": "5"}

    response = client.post(point_url(point), data)

    assert response.status_code == 200
    assert "Only a reading has limits and a meter." in response.content.decode()
    assert not AuditEntry.objects.exists()


def test_adding_and_deleting_a_point_on_its_own_page_is_recorded(client, site, route):
    fan = AssetFactory(site=site, tag="F-1")
    data = form_data(client.get("/admin/pm/routepoint/add/"), "routepoint_form")
    data |= {
        "route": route.pk,
        "position": "2",
        "asset": fan.pk,
        "instruction": "",
        "checks-0-position": "1",
        "checks-0-kind": "check",
        "checks-0-label": "Guard in place",
    }

    response = client.post("/admin/pm/routepoint/add/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    added = AuditEntry.objects.get()
    assert (added.action, added.object_id) == (AuditAction.ROUTE_UPDATE, str(route.pk))
    assert added.changes == {
        "points": {"added": ["2. F-1"]},
        "checks": {"added": ["2. F-1: Guard in place"]},
    }
    point = route.points.get(position=2)

    response = client.post(f"/admin/pm/routepoint/{point.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not route.points.filter(position=2).exists()
    deleted = AuditEntry.objects.exclude(pk=added.pk).get()
    assert (deleted.action, deleted.site) == (AuditAction.ROUTE_UPDATE, site)
    assert deleted.changes == {
        "points": {"deleted": ["2. F-1"]},
        "checks": {"deleted": ["2. F-1: Guard in place"]},
    }


def test_a_planner_of_another_site_does_not_see_the_routes_entries(
    client, logged_in, route, other_site
):
    data = form_data(client.get(route_url(route)), "route_form")
    data["name"] = "Renamed walk"
    client.post(route_url(route), data)
    entry = AuditEntry.objects.get(action=AuditAction.ROUTE_UPDATE)

    stranger = logged_in(PlannerFactory(sites=[other_site]))

    assert "Renamed walk" not in stranger.get("/admin/audit/auditentry/").content.decode()
    assert stranger.get(f"/admin/audit/auditentry/{entry.pk}/change/").status_code == 302
    assert "Renamed walk" in client.get("/admin/audit/auditentry/").content.decode()


def test_swapping_two_points_positions_is_a_form_error_not_a_server_error(client, site, route):
    RoutePointFactory(route=route, position=2, asset=AssetFactory(site=site))
    data = form_data(client.get(route_url(route)), "route_form")
    data |= {"points-0-position": "2", "points-1-position": "1"}

    response = client.post(route_url(route), data)

    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert list(route.points.values_list("position", flat=True)) == [1, 2]
    assert not AuditEntry.objects.exists()
