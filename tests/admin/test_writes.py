"""Admin add and change forms write through the services (hierarchy, numbers, history)."""

import pytest
from django.urls import reverse

from assets.models import Asset
from tests.factories import AssetFactory, SiteFactory
from tests.forms import form_data
from workorders.choices import EventKind, Status
from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db


def test_adding_an_asset_places_it_in_the_hierarchy(planner_client, plant_a):
    url = reverse("admin:assets_asset_add")
    data = form_data(planner_client.get(url), "asset_form")
    data.update(site=plant_a.site.pk, parent=plant_a.pump.pk, tag="M-1A", name="Pump motor")
    response = planner_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    motor = Asset.objects.get(site=plant_a.site, tag="M-1A")
    assert motor.path == f"{plant_a.pump.path}{motor.pk}/"
    assert motor.depth == 3


def test_moving_an_asset_in_the_admin_moves_its_subtree(planner_client, plant_a):
    other_line = AssetFactory(site=plant_a.site, tag="L-2", parent=plant_a.area)
    url = reverse("admin:assets_asset_change", args=[plant_a.pump.pk])
    data = form_data(planner_client.get(url), "asset_form")
    data["parent"] = other_line.pk
    response = planner_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    plant_a.pump.refresh_from_db()
    assert plant_a.pump.path == f"{other_line.path}{plant_a.pump.pk}/"


def test_an_asset_cannot_be_moved_below_itself(planner_client, plant_a):
    url = reverse("admin:assets_asset_change", args=[plant_a.line.pk])
    data = form_data(planner_client.get(url), "asset_form")
    data["parent"] = plant_a.pump.pk
    response = planner_client.post(url, data)
    assert response.status_code == 200
    assert "cannot be moved below itself" in response.content.decode()
    plant_a.line.refresh_from_db()
    assert plant_a.line.parent == plant_a.area


def test_adding_a_work_order_numbers_it_and_records_who_created_it(planner_client, plant_a):
    url = reverse("admin:workorders_workorder_add")
    data = form_data(planner_client.get(url), "workorder_form")
    data.update(
        site=plant_a.site.pk,
        asset=plant_a.pump.pk,
        title="Check coupling",
        status=Status.APPROVED,
        **{"steps-TOTAL_FORMS": "1", "steps-0-position": "1", "steps-0-text": "LOTO"},
    )
    response = planner_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    wo = WorkOrder.objects.get(title="Check coupling")
    assert wo.number == WorkOrder.format_number(wo.pk)
    assert wo.status == Status.APPROVED
    created = wo.history.get()
    assert (created.from_status, created.to_status, created.changed_by) == (
        "",
        Status.APPROVED,
        plant_a.planner,
    )
    assert [s.text for s in wo.steps.all()] == ["LOTO"]


def test_a_refusal_by_the_service_shows_on_the_form_and_saves_nothing(client, plant_a):
    second_site = SiteFactory(code="second")
    plant_a.planner.sites.add(second_site)
    client.force_login(plant_a.planner)
    url = reverse("admin:workorders_workorder_add")
    data = form_data(client.get(url), "workorder_form")
    data.update(site=second_site.pk, asset=plant_a.pump.pk, title="Wrong site", status="requested")
    response = client.post(url, data)
    assert response.status_code == 200
    assert "The asset belongs to another site." in response.content.decode()
    assert not WorkOrder.objects.filter(title="Wrong site").exists()


def test_changing_priority_in_the_admin_goes_through_the_update_service(planner_client, plant_a):
    url = reverse("admin:workorders_workorder_change", args=[plant_a.work_order.pk])
    data = form_data(planner_client.get(url), "workorder_form")
    assert "status" not in data  # read-only
    data.update(priority="1", status="closed")
    response = planner_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    plant_a.work_order.refresh_from_db()
    assert plant_a.work_order.priority == 1
    assert plant_a.work_order.status == Status.IN_PROGRESS
    assert plant_a.work_order.events.filter(kind=EventKind.PRIORITY).exists()


def test_labour_added_in_the_admin_is_booked_with_the_labour_service(planner_client, plant_a):
    wo = plant_a.work_order
    url = reverse("admin:workorders_workorder_change", args=[wo.pk])
    data = form_data(planner_client.get(url), "workorder_form")
    n = int(data["labour-TOTAL_FORMS"])
    data.update(
        {
            "labour-TOTAL_FORMS": str(n + 1),
            f"labour-{n}-technician": plant_a.technician.pk,
            f"labour-{n}-started_at_0": "2026-01-05",
            f"labour-{n}-started_at_1": "08:00:00",
            f"labour-{n}-hours": "2.5",
            f"labour-{n}-note": "night shift",
        }
    )
    response = planner_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    wo.refresh_from_db()
    assert wo.actual_hours == 3.5  # 1 h from the fixture + 2.5 h
    assert wo.labour.filter(note="night shift", hours=2.5).exists()
