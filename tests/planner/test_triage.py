"""The triage queue: requests and unmatched alerts in one place; decisions through services."""

from unittest import mock

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from alerts.choices import AlertStatus
from alerts.models import Alert
from audit.models import AuditEntry
from planner.views import TAG_SUGGESTIONS
from tests.factories import AssetFactory, GatewayFactory, WorkOrderFactory, move_to
from tests.world import Plant
from workorders.choices import Priority, Status

pytestmark = pytest.mark.django_db

URL = reverse("admin:planner-triage")


def post(client, **data):
    response = client.post(URL, data, follow=True)
    assert response.status_code == 200
    return [str(m) for m in get_messages(response.wsgi_request)] or [
        str(m) for m in response.context["messages"]
    ]


def alert(plant, *, severity="major", tag="PX-9", alert_id="a1"):
    return Alert.objects.create(
        gateway=GatewayFactory(site=plant.site),
        site=plant.site,
        alert_id=alert_id,
        asset_tag=tag,
        condition="vibration_high",
        severity=severity,
        observed_at="2026-01-01T00:00:00Z",
        status=AlertStatus.UNMATCHED,
    )


def test_the_queue_lists_requests_by_priority_then_newest_and_alerts_by_severity(planner, plant):
    low = WorkOrderFactory(site=plant.site, priority=Priority.LOW)
    urgent_old = WorkOrderFactory(site=plant.site, priority=Priority.EMERGENCY)
    urgent_new = WorkOrderFactory(site=plant.site, priority=Priority.EMERGENCY)
    warning = alert(plant, severity="warning", alert_id="w")
    critical = alert(plant, severity="critical", alert_id="c")
    response = planner.get(URL)
    assert [wo.pk for wo in response.context["requests"]] == [urgent_new.pk, urgent_old.pk, low.pk]
    assert [a.pk for a in response.context["alerts"]] == [critical.pk, warning.pk]


def test_another_sites_requests_and_alerts_are_not_in_the_queue(planner, plant):
    other = Plant("oth")
    theirs = WorkOrderFactory(site=other.site)
    alert(other)
    response = planner.get(URL)
    assert theirs.pk not in [wo.pk for wo in response.context["requests"]]
    assert response.context["alerts"] == []


def test_approving_from_the_queue_moves_the_request_through_the_lifecycle(planner, plant):
    wo = WorkOrderFactory(site=plant.site)
    messages = post(planner, op="approve", id=wo.pk)
    wo.refresh_from_db()
    assert wo.status == Status.APPROVED
    assert wo.history.last().changed_by == plant.planner
    assert messages == [f"Approved {wo.number}."]


def test_rejecting_cancels_with_the_planners_reason(planner, plant):
    wo = WorkOrderFactory(site=plant.site)
    post(planner, op="reject", id=wo.pk, reason="not a fault: normal noise")
    wo.refresh_from_db()
    assert wo.status == Status.CANCELLED
    assert wo.history.last().reason == "not a fault: normal noise"


def test_approving_a_request_that_was_already_cancelled_is_refused_with_the_reason(planner, plant):
    wo = move_to(WorkOrderFactory(site=plant.site), Status.CANCELLED)
    messages = post(planner, op="approve", id=wo.pk)
    assert messages and messages[0].startswith("Refused:")
    assert "cannot go from cancelled to approved" in messages[0]


def test_merging_a_duplicate_cancels_it_moves_its_alerts_and_notes_the_original(planner, plant):
    original = plant.work_order
    duplicate = WorkOrderFactory(site=plant.site, asset=plant.pump)
    dup_alert = alert(plant)
    Alert.objects.filter(pk=dup_alert.pk).update(work_order=duplicate)
    page = planner.get(URL).content.decode()
    assert f'value="{original.number}"' in page  # offered: open work on the same asset

    messages = post(planner, op="merge", id=duplicate.pk, into=original.number)

    duplicate.refresh_from_db()
    assert duplicate.status == Status.CANCELLED
    assert duplicate.history.last().reason == f"duplicate of {original.number}"
    assert Alert.objects.get(pk=dup_alert.pk).work_order == original
    assert original.events.filter(message__contains=duplicate.number).exists()
    assert messages == [f"Merged {duplicate.number} into {original.number}."]


def test_merging_into_another_sites_work_order_is_refused(planner, plant):
    other = Plant("mrg")
    duplicate = WorkOrderFactory(site=plant.site)
    messages = post(planner, op="merge", id=duplicate.pk, into=other.work_order.number)
    duplicate.refresh_from_db()
    assert duplicate.status == Status.REQUESTED
    assert messages == [f"Refused: into: No work order {other.work_order.number} at your sites."]


def test_merging_into_closed_work_is_refused_and_changes_nothing(planner, plant):
    closed = move_to(WorkOrderFactory(site=plant.site), Status.CLOSED)
    duplicate = WorkOrderFactory(site=plant.site)
    messages = post(planner, op="merge", id=duplicate.pk, into=closed.number)
    duplicate.refresh_from_db()
    assert duplicate.status == Status.REQUESTED
    assert "pick open work" in messages[0]


def test_mapping_an_unmatched_alert_to_an_asset_sends_it_for_processing(
    planner, plant, django_capture_on_commit_callbacks
):
    unmatched = alert(plant, tag="PX-9")
    with (
        mock.patch("alerts.services.alerts_dispatch") as enqueue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        messages = post(planner, op="map", id=unmatched.pk, tag=plant.pump.tag.lower())
    unmatched.refresh_from_db()
    assert (unmatched.status, unmatched.asset) == (AlertStatus.RECEIVED, plant.pump)
    assert messages == [f"Alert a1 mapped to {plant.pump.tag}; sent for processing."]
    enqueue.assert_called_once_with([unmatched.pk])
    entry = AuditEntry.objects.get(action="alerts.map")
    assert (entry.actor, entry.changes) == (plant.planner, {"alerts": [unmatched.pk], "count": 1})


def test_mapping_to_a_tag_of_another_site_is_refused(planner, plant):
    other_asset = AssetFactory(tag="ONLY-THERE")
    unmatched = alert(plant)
    messages = post(planner, op="map", id=unmatched.pk, tag=other_asset.tag)
    unmatched.refresh_from_db()
    assert unmatched.status == AlertStatus.UNMATCHED
    assert messages == [f"Refused: tag: No asset tagged 'ONLY-THERE' at {plant.site.code}."]


def test_the_queue_page_costs_the_same_queries_for_many_rows(
    planner, plant, django_assert_max_num_queries
):
    for n in range(30):
        WorkOrderFactory(site=plant.site, asset=plant.pump)
        alert(plant, alert_id=f"x{n}")
    with django_assert_max_num_queries(14):
        response = planner.get(URL)
    assert len(response.context["requests"]) == 30


def test_the_map_form_suggests_a_bounded_list_of_tags_like_the_one_sent(planner, plant):
    for n in range(60):
        AssetFactory(site=plant.site, tag=f"PX-{n:03d}")
    AssetFactory(site=plant.site, tag="ZZ-1")
    alert(plant, tag="PX-99")
    page = planner.get(URL).content.decode()
    datalist = page.split(f'<datalist id="tags-{plant.site.pk}">')[1].split("</datalist>")[0]
    assert datalist.count("<option") == TAG_SUGGESTIONS
    assert '<option value="PX-000">' in datalist
    assert "ZZ-1" not in datalist
