"""Status changes and stock quantities change only through admin actions that call services."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from assets.choices import MovementKind
from tests.factories import WorkOrderFactory, move_to
from workorders.choices import Status

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:workorders_workorder_changelist"


def run_action(client, action, objects, url=CHANGELIST, **extra):
    data = {"action": action, "_selected_action": [o.pk for o in objects], "index": 0, **extra}
    response = client.post(reverse(url), data, follow=True)
    assert response.status_code == 200
    return [str(m) for m in get_messages(response.wsgi_request)] or [
        str(m) for m in response.context["messages"]
    ]


def test_approving_a_selection_approves_the_allowed_and_reports_the_refused(
    planner_client, plant_a
):
    first = WorkOrderFactory(site=plant_a.site)
    second = WorkOrderFactory(site=plant_a.site)
    closed = move_to(WorkOrderFactory(site=plant_a.site), Status.CLOSED)

    messages = run_action(planner_client, "approve", [first, second, closed])

    for wo in (first, second, closed):
        wo.refresh_from_db()
    assert (first.status, second.status, closed.status) == (
        Status.APPROVED,
        Status.APPROVED,
        Status.CLOSED,
    )
    assert f"Approved 2 work orders: {first.number}, {second.number}." in messages
    refused = next(m for m in messages if m.startswith("Refused 1 work order"))
    assert closed.number in refused
    assert "cannot go from closed to approved" in refused
    last = first.history.last()
    assert (last.to_status, last.changed_by) == (Status.APPROVED, plant_a.planner)


def test_putting_on_hold_records_the_planners_reason(planner_client, plant_a):
    messages = run_action(planner_client, "put_on_hold", [plant_a.work_order])
    plant_a.work_order.refresh_from_db()
    assert plant_a.work_order.status == Status.ON_HOLD
    assert plant_a.work_order.on_hold_reason == "set by planner"
    assert plant_a.work_order.history.last().reason == "set by planner"
    assert messages == [f"Put on hold 1 work order: {plant_a.work_order.number}."]


def test_another_sites_work_order_cannot_be_transitioned_by_posting_its_id(
    planner_client, plant_a, plant_b
):
    run_action(planner_client, "cancel", [plant_b.work_order])
    plant_b.work_order.refresh_from_db()
    assert plant_b.work_order.status == Status.IN_PROGRESS


def test_receiving_stock_shows_a_form_then_books_a_receipt(planner_client, plant_a):
    stock = plant_a.stock
    url = "admin:assets_stock_changelist"
    page = planner_client.post(
        reverse(url), {"action": "receive_stock", "_selected_action": [stock.pk]}
    )
    assert page.status_code == 200
    assert f'name="qty_{stock.pk}"' in page.content.decode()

    stock.refresh_from_db()
    before = stock.on_hand
    messages = run_action(
        planner_client,
        "receive_stock",
        [stock],
        url=url,
        apply="yes",
        reason="PO 4711",
        **{f"qty_{stock.pk}": "5"},
    )
    stock.refresh_from_db()
    assert stock.on_hand == before + 5
    movement = stock.movements.order_by("-id").first()
    assert (movement.kind, movement.quantity, movement.reason, movement.created_by) == (
        MovementKind.RECEIPT,
        Decimal("5"),
        "PO 4711",
        plant_a.planner,
    )
    assert any(m.startswith("Received 1 stock") for m in messages)


def test_counting_stock_needs_a_reason_and_books_the_difference(planner_client, plant_a):
    stock = plant_a.stock
    url = reverse("admin:assets_stock_changelist")
    data = {"action": "count_stock", "_selected_action": [stock.pk], "apply": "yes"}
    page = planner_client.post(url, {**data, f"qty_{stock.pk}": "3"})
    assert page.status_code == 200  # re-rendered: the reason is missing
    assert "This field is required" in page.content.decode()

    planner_client.post(url, {**data, f"qty_{stock.pk}": "3", "reason": "cycle count"})
    stock.refresh_from_db()
    assert stock.on_hand == 3
    movement = stock.movements.order_by("-id").first()
    assert (movement.kind, movement.on_hand_after) == (MovementKind.ADJUSTMENT, Decimal("3"))


def test_on_hand_is_read_only_on_the_stock_change_form(planner_client, plant_a):
    from tests.forms import form_data

    url = reverse("admin:assets_stock_change", args=[plant_a.stock.pk])
    data = form_data(planner_client.get(url), "stock_form")
    assert "on_hand" not in data
    data.update(on_hand="999", reorder_point="4")
    assert planner_client.post(url, data).status_code == 302
    plant_a.stock.refresh_from_db()
    assert plant_a.stock.on_hand == 9
    assert plant_a.stock.reorder_point == 4
