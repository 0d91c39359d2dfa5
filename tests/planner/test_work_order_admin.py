"""Work order admin as a planner's tool: bulk actions with per-row results, filters, export."""

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from alerts.models import Alert
from tests.factories import (
    AssetFactory,
    GatewayFactory,
    TechnicianFactory,
    WorkOrderFactory,
    move_to,
)
from tests.world import Plant
from workorders.choices import Status

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:workorders_workorder_changelist")


def act(client, action, objects, **extra):
    data = {"action": action, "_selected_action": [o.pk for o in objects], "index": 0, **extra}
    response = client.post(CHANGELIST, data, follow=True)
    assert response.status_code == 200
    return response, [str(m) for m in get_messages(response.wsgi_request)]


def test_assigning_asks_for_the_technician_first_and_changes_nothing_yet(planner, plant):
    wo = WorkOrderFactory(site=plant.site)
    response, messages = act(planner, "assign", [wo])
    assert messages == []
    assert response.templates[0].name == "admin/workorders/workorder/action_form.html"
    assert wo.number in response.content.decode()
    wo.refresh_from_db()
    assert wo.assignee is None


def test_assigning_a_selection_reports_rows_the_services_refuse(planner, plant):
    other_plant = Plant("wob")
    other_plant.planner.sites.add(plant.site)
    planner.force_login(other_plant.planner)  # a planner of both sites
    here = WorkOrderFactory(site=plant.site)
    closed = move_to(WorkOrderFactory(site=plant.site), Status.CLOSED)
    there = WorkOrderFactory(site=other_plant.site)

    _, messages = act(
        planner, "assign", [here, closed, there], apply="yes", technician=plant.technician.pk
    )

    for wo in (here, closed, there):
        wo.refresh_from_db()
    assert (here.assignee, closed.assignee, there.assignee) == (plant.technician, None, None)
    assert messages[0] == f"Assigned to {plant.technician.username} 1 work order: {here.number}."
    assert messages[1].startswith("Refused 2 work orders:")
    assert f"{closed.number}: {closed.number} is closed; it cannot be assigned." in messages[1]
    assert f"{there.number}: assignee: {plant.technician} does not work at site" in messages[1]


def test_scheduling_sets_start_and_assignee_and_refuses_requested_work(planner, plant):
    approved = move_to(WorkOrderFactory(site=plant.site), Status.APPROVED)
    requested = WorkOrderFactory(site=plant.site)
    start = "2030-03-04T08:30"

    _, messages = act(
        planner,
        "schedule",
        [approved, requested],
        apply="yes",
        scheduled_start=start,
        technician=plant.technician.pk,
    )

    approved.refresh_from_db()
    requested.refresh_from_db()
    assert approved.status == Status.SCHEDULED
    assert approved.assignee == plant.technician
    assert approved.scheduled_start == datetime(2030, 3, 4, 8, 30, tzinfo=ZoneInfo("UTC"))
    assert (requested.status, requested.assignee, requested.scheduled_start) == (
        Status.REQUESTED,
        None,
        None,
    )
    assert messages[0] == f"Scheduled 1 work order: {approved.number}."
    assert "cannot go from requested to scheduled" in messages[1]


def test_a_technician_of_another_planners_site_is_not_offered(planner, plant):
    outsider = TechnicianFactory(username="outsider")
    wo = WorkOrderFactory(site=plant.site)
    response, _ = act(planner, "assign", [wo])
    choices = [
        str(c[0].value) for c in response.context["form"].fields["technician"].choices if c[0]
    ]
    assert str(plant.technician.pk) in choices
    assert str(outsider.pk) not in choices
    act(planner, "assign", [wo], apply="yes", technician=outsider.pk)
    wo.refresh_from_db()
    assert wo.assignee is None


def test_the_asset_filter_includes_everything_below_the_asset(planner, plant):
    on_pump = WorkOrderFactory(site=plant.site, asset=plant.pump)
    elsewhere = WorkOrderFactory(site=plant.site, asset=AssetFactory(site=plant.site))
    response = planner.get(CHANGELIST, {"asset_tree": plant.area.pk})
    shown = set(response.context["cl"].result_list)
    assert {on_pump, plant.work_order} <= shown
    assert elsewhere not in shown


def test_the_detail_page_shows_the_alerts_behind_the_work_order(planner, plant):
    Alert.objects.create(
        gateway=GatewayFactory(site=plant.site),
        site=plant.site,
        alert_id="behind-1",
        asset=plant.pump,
        asset_tag=plant.pump.tag,
        condition="bearing_temp_high",
        severity="major",
        observed_at="2026-01-01T00:00:00Z",
        status="processed",
        work_order=plant.work_order,
    )
    page = planner.get(reverse("admin:workorders_workorder_change", args=[plant.work_order.pk]))
    html = page.content.decode()
    assert "alerts behind this work order" in html.lower()
    assert "behind-1" in html
    assert "status history" in html.lower()


def export(client, fmt: str, **filters):
    """Post the export form as the export page offers it, with the changelist's filters."""
    url = reverse("admin:workorders_workorder_export")
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    page = client.get(f"{url}?{query}")
    assert page.status_code == 200
    form = page.context["form"]
    formats = {label: value for value, label in form.fields["format"].choices}
    data = {"format": formats[fmt], "resource": 0}
    for name in form.fields:
        if name.startswith("workorderresource_"):
            data[name] = "on"
    return client.post(f"{url}?{query}", data)


def test_exporting_csv_keeps_the_changelists_filters(planner, plant):
    requested = WorkOrderFactory(site=plant.site, title="Leak at valve")
    response = export(planner, "csv", status__exact="requested")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    header, *rows = text.strip().splitlines()
    assert header.startswith("number,title,site,asset,status")
    assert [r.split(",")[0] for r in rows] == [requested.number]
    assert plant.work_order.number not in text  # in progress: filtered out


def test_exporting_xlsx_gives_a_workbook_of_the_planners_sites_only(planner, plant):
    theirs = Plant("exo").work_order
    response = export(planner, "xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    numbers = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert plant.work_order.number in numbers
    assert theirs.number not in numbers
