"""The work order API: who may create and change what, the transition endpoint and the actions."""

from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import (
    AssetFactory,
    PlannerFactory,
    StockFactory,
    TechnicianFactory,
    WorkOrderFactory,
    failure_codes,
    move_to,
)
from workorders.choices import Source, Status, WorkOrderType
from workorders.models import StatusChange, WorkOrder

pytestmark = pytest.mark.django_db


def url(wo, action=""):
    return f"/api/v1/work-orders/{wo.pk}/" + (f"{action}/" if action else "")


# ---------------------------------------------------------------- create


def test_a_planner_creates_scheduled_work_with_an_assignee(as_user, planner, technician, site_a):
    asset = AssetFactory(site=site_a)
    response = as_user(planner).post(
        "/api/v1/work-orders/",
        {
            "site": site_a.pk,
            "asset": asset.pk,
            "title": "Replace bearing",
            "type": "preventive",
            "priority": 2,
            "status": "scheduled",
            "assignee": technician.pk,
            "due_at": "2030-01-01T08:00:00Z",
        },
        format="json",
    )
    assert response.status_code == 201, response.data
    body = response.data
    assert body["number"].startswith("WO-")
    assert (body["status"], body["assignee"], body["source"]) == (
        "scheduled",
        technician.pk,
        "manual",
    )
    wo = WorkOrder.objects.get(pk=body["id"])
    assert wo.history.get().to_status == Status.SCHEDULED
    assert wo.requested_by == planner


@pytest.mark.parametrize("role", ["technician", "viewer"])
def test_technicians_and_customer_viewers_create_work_requests(role, request, as_user, site_a):
    user = request.getfixturevalue(role)
    asset = AssetFactory(site=site_a)
    response = as_user(user).post(
        "/api/v1/work-orders/",
        {"site": site_a.pk, "asset": asset.pk, "title": "Pump is noisy", "description": "Loud"},
        format="json",
    )
    assert response.status_code == 201, response.data
    assert response.data["status"] == "requested"
    assert response.data["source"] == Source.REQUEST
    assert response.data["requested_by"] == user.pk
    assert response.data["assignee"] is None


@pytest.mark.parametrize("role", ["technician", "viewer"])
def test_a_work_request_cannot_start_approved(role, request, as_user, site_a):
    response = as_user(request.getfixturevalue(role)).post(
        "/api/v1/work-orders/",
        {"site": site_a.pk, "title": "Noisy", "status": "approved"},
        format="json",
    )
    assert response.status_code == 403
    assert not WorkOrder.objects.exists()


@pytest.mark.parametrize("field", ["assignee", "due_at", "estimated_hours"])
def test_a_work_request_cannot_carry_planning(field, as_user, technician, site_a):
    values = {"assignee": technician.pk, "due_at": "2030-01-01T00:00:00Z", "estimated_hours": "2"}
    response = as_user(technician).post(
        "/api/v1/work-orders/",
        {"site": site_a.pk, "title": "Noisy", field: values[field]},
        format="json",
    )
    assert response.status_code == 403
    assert field in response.data["detail"]
    assert not WorkOrder.objects.exists()


def test_a_new_work_order_cannot_start_in_progress(as_user, planner, site_a):
    response = as_user(planner).post(
        "/api/v1/work-orders/",
        {"site": site_a.pk, "title": "x", "status": "in_progress"},
        format="json",
    )
    assert response.status_code == 400
    assert "status" in response.data


def test_creating_without_a_site_or_title_names_the_fields(as_user, planner):
    response = as_user(planner).post("/api/v1/work-orders/", {}, format="json")
    assert response.status_code == 400
    assert {"site", "title"} <= set(response.data)


# ---------------------------------------------------------------- update


def test_a_planner_patches_the_planning_fields(as_user, planner, technician, site_a):
    wo = WorkOrderFactory(site=site_a, priority=3)
    problem, _, _ = failure_codes()
    response = as_user(planner).patch(
        url(wo),
        {"priority": 1, "title": "Urgent", "assignee": technician.pk, "problem": problem.code},
        format="json",
    )
    assert response.status_code == 200, response.data
    wo.refresh_from_db()
    assert (wo.priority, wo.title, wo.assignee, wo.problem) == (1, "Urgent", technician, problem)
    assert response.data["problem"] == "VIB"


@pytest.mark.parametrize("role", ["technician", "viewer"])
@pytest.mark.parametrize(
    "change", [{"title": "mine"}, {"status": "approved"}, {"site": 0}, {"number": "WO-1"}]
)
def test_only_planners_patch_a_work_order(role, change, request, as_user, site_a):
    user = request.getfixturevalue(role)
    wo = WorkOrderFactory(site=site_a, assignee=None)
    response = as_user(user).patch(url(wo), change, format="json")
    assert response.status_code == 403
    fresh = WorkOrder.objects.get(pk=wo.pk)
    assert (fresh.title, fresh.status, fresh.site_id, fresh.number) == (
        wo.title,
        wo.status,
        wo.site_id,
        wo.number,
    )


def test_writing_the_status_is_a_400_pointing_to_the_transition_endpoint(as_user, planner, site_a):
    wo = WorkOrderFactory(site=site_a)
    response = as_user(planner).patch(url(wo), {"status": "approved"}, format="json")
    assert response.status_code == 400
    assert f"/api/v1/work-orders/{wo.pk}/transition/" in response.data["status"][0]
    wo.refresh_from_db()
    assert wo.status == Status.REQUESTED


def test_moving_a_work_order_to_another_site_is_a_400(as_user, planner, site_a, site_b):
    planner.sites.add(site_b)
    wo = WorkOrderFactory(site=site_a)
    response = as_user(planner).patch(url(wo), {"site": site_b.pk}, format="json")
    assert response.status_code == 400
    assert "site" in response.data
    wo.refresh_from_db()
    assert wo.site == site_a


def test_the_number_is_read_only(as_user, planner, site_a):
    wo = WorkOrderFactory(site=site_a)
    response = as_user(planner).patch(url(wo), {"number": "WO-999999"}, format="json")
    assert response.status_code == 200
    wo.refresh_from_db()
    assert wo.number == response.data["number"] != "WO-999999"


def test_a_full_put_may_echo_the_current_status_and_site(as_user, planner, site_a):
    wo = WorkOrderFactory(site=site_a)
    client = as_user(planner)
    body = client.get(url(wo)).data
    body.pop("steps")
    body["title"] = "Renamed"
    response = client.put(url(wo), body, format="json")
    assert response.status_code == 200, response.data
    wo.refresh_from_db()
    assert wo.title == "Renamed"


def test_work_orders_are_never_deleted(as_user, planner, site_a):
    wo = WorkOrderFactory(site=site_a)
    assert as_user(planner).delete(url(wo)).status_code == 405
    assert WorkOrder.objects.filter(pk=wo.pk).exists()


# ---------------------------------------------------------------- transition


def test_an_allowed_transition_answers_200_and_records_history(as_user, planner, site_a):
    wo = WorkOrderFactory(site=site_a)
    response = as_user(planner).post(
        url(wo, "transition"), {"to": "approved", "reason": "looks right"}, format="json"
    )
    assert response.status_code == 200, response.data
    assert response.data["status"] == "approved"
    last = StatusChange.objects.filter(work_order=wo).last()
    assert (last.from_status, last.to_status, last.changed_by, last.reason) == (
        "requested",
        "approved",
        planner,
        "looks right",
    )


def test_an_illegal_transition_answers_409_with_a_message(as_user, planner, site_a):
    wo = WorkOrderFactory(site=site_a)
    response = as_user(planner).post(url(wo, "transition"), {"to": "completed"}, format="json")
    assert response.status_code == 409
    assert "cannot go from requested to completed" in response.data["detail"]
    assert response.data["code"] == "illegal_transition"
    wo.refresh_from_db()
    assert wo.status == Status.REQUESTED
    assert wo.history.count() == 1


def test_putting_work_on_hold_without_a_reason_is_a_400_naming_reason(as_user, planner, site_a):
    wo = move_to(WorkOrderFactory(site=site_a), Status.IN_PROGRESS)
    response = as_user(planner).post(url(wo, "transition"), {"to": "on_hold"}, format="json")
    assert response.status_code == 400
    assert "reason" in response.data
    wo.refresh_from_db()
    assert wo.status == Status.IN_PROGRESS


def test_an_unknown_target_status_is_a_400_naming_to(as_user, planner, site_a):
    wo = WorkOrderFactory(site=site_a)
    response = as_user(planner).post(url(wo, "transition"), {"to": "done"}, format="json")
    assert response.status_code == 400
    assert "to" in response.data


def test_completing_corrective_work_needs_failure_codes(as_user, planner, site_a):
    wo = move_to(WorkOrderFactory(site=site_a, type=WorkOrderType.CORRECTIVE), Status.IN_PROGRESS)
    client = as_user(planner)
    refused = client.post(url(wo, "transition"), {"to": "completed"}, format="json")
    assert refused.status_code == 400
    assert {"problem", "cause", "remedy"} <= set(refused.data)

    failure_codes()
    done = client.post(
        url(wo, "transition"),
        {"to": "completed", "problem": "VIB", "cause": "MISALIGN", "remedy": "REALIGN"},
        format="json",
    )
    assert done.status_code == 200, done.data
    assert (done.data["status"], done.data["problem"], done.data["remedy"]) == (
        "completed",
        "VIB",
        "REALIGN",
    )


def test_a_failure_code_of_the_wrong_kind_is_refused(as_user, planner, site_a):
    wo = move_to(WorkOrderFactory(site=site_a), Status.IN_PROGRESS)
    failure_codes()
    response = as_user(planner).post(
        url(wo, "transition"),
        {"to": "completed", "problem": "REALIGN", "cause": "MISALIGN", "remedy": "REALIGN"},
        format="json",
    )
    assert response.status_code == 400
    assert "problem" in response.data


def test_a_technician_starts_work_assigned_to_them(as_user, technician, site_a):
    wo = move_to(WorkOrderFactory(site=site_a, assignee=technician), Status.SCHEDULED)
    response = as_user(technician).post(url(wo, "transition"), {"to": "in_progress"}, format="json")
    assert response.status_code == 200, response.data
    assert response.data["status"] == "in_progress"
    assert response.data["started_at"] is not None


def test_a_technician_cannot_approve_a_request(as_user, technician, site_a):
    wo = WorkOrderFactory(site=site_a)
    response = as_user(technician).post(url(wo, "transition"), {"to": "approved"}, format="json")
    assert response.status_code == 403
    wo.refresh_from_db()
    assert wo.status == Status.REQUESTED


def test_a_customer_viewer_cannot_change_status(as_user, viewer, site_a):
    wo = WorkOrderFactory(site=site_a)
    response = as_user(viewer).post(
        url(wo, "transition"), {"to": "cancelled", "reason": "x"}, format="json"
    )
    assert response.status_code == 403
    wo.refresh_from_db()
    assert wo.status == Status.REQUESTED


def test_history_lists_every_status_change(as_user, planner, site_a):
    wo = move_to(WorkOrderFactory(site=site_a), Status.SCHEDULED, by=planner)
    response = as_user(planner).get(url(wo, "history"))
    assert response.status_code == 200
    assert response.data["count"] == 3
    rows = response.data["results"]
    assert [(r["from"], r["to"]) for r in rows] == [
        (None, "requested"),
        ("requested", "approved"),
        ("approved", "scheduled"),
    ]
    assert rows[-1]["by"] == planner.pk
    assert set(rows[-1]) >= {"from", "to", "by", "at", "reason"}


# ---------------------------------------------------------------- assign


def test_a_planner_assigns_and_unassigns(as_user, planner, technician, site_a):
    wo = WorkOrderFactory(site=site_a)
    client = as_user(planner)
    response = client.post(url(wo, "assign"), {"assignee": technician.pk}, format="json")
    assert response.status_code == 200, response.data
    assert response.data["assignee"] == technician.pk
    response = client.post(url(wo, "assign"), {"assignee": None}, format="json")
    assert response.data["assignee"] is None
    wo.refresh_from_db()
    assert wo.assignee is None


def test_assigning_a_technician_of_another_site_is_refused(as_user, planner, site_a, site_b):
    wo = WorkOrderFactory(site=site_a)
    stranger = TechnicianFactory(sites=[site_b])
    response = as_user(planner).post(url(wo, "assign"), {"assignee": stranger.pk}, format="json")
    assert response.status_code == 400
    assert "Invalid pk" in str(response.data["assignee"])


def test_only_technicians_can_be_assignees(as_user, planner, site_a):
    wo = WorkOrderFactory(site=site_a)
    colleague = PlannerFactory(sites=[site_a])
    response = as_user(planner).post(url(wo, "assign"), {"assignee": colleague.pk}, format="json")
    assert response.status_code == 400
    assert "not an active technician" in str(response.data["assignee"])


def test_a_technician_cannot_assign(as_user, technician, site_a):
    wo = WorkOrderFactory(site=site_a)
    response = as_user(technician).post(
        url(wo, "assign"), {"assignee": technician.pk}, format="json"
    )
    assert response.status_code == 403
    wo.refresh_from_db()
    assert wo.assignee is None


# ---------------------------------------------------------------- labour, steps, parts


def test_a_technician_records_their_own_labour(as_user, technician, site_a):
    wo = move_to(WorkOrderFactory(site=site_a, assignee=technician), Status.SCHEDULED)
    response = as_user(technician).post(
        url(wo, "labour"), {"hours": "1.5", "note": "Aligned coupling"}, format="json"
    )
    assert response.status_code == 201, response.data
    assert response.data["technician"] == technician.pk
    wo.refresh_from_db()
    assert wo.actual_hours == Decimal("1.5")


def test_a_technician_cannot_record_labour_for_someone_else(as_user, technician, site_a):
    colleague = TechnicianFactory(sites=[site_a])
    wo = WorkOrderFactory(site=site_a)
    response = as_user(technician).post(
        url(wo, "labour"), {"hours": "1", "technician": colleague.pk}, format="json"
    )
    assert response.status_code == 400
    assert "technician" in response.data
    assert not wo.labour.exists()


def test_a_planner_records_labour_for_a_technician(as_user, planner, technician, site_a):
    wo = WorkOrderFactory(site=site_a)
    response = as_user(planner).post(
        url(wo, "labour"), {"hours": "2", "technician": technician.pk}, format="json"
    )
    assert response.status_code == 201, response.data
    assert wo.labour.get().technician == technician


def test_too_many_hours_is_a_400_naming_hours(as_user, technician, site_a):
    wo = WorkOrderFactory(site=site_a)
    response = as_user(technician).post(url(wo, "labour"), {"hours": "25"}, format="json")
    assert response.status_code == 400
    assert "hours" in response.data


def test_labour_without_hours_is_a_400_naming_hours(as_user, technician, site_a):
    wo = WorkOrderFactory(site=site_a)

    response = as_user(technician).post(url(wo, "labour"), {"note": "no time"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"hours": ["This field is required."]}
    assert not wo.labour.exists()


@pytest.mark.parametrize("started_at", ["2999-01-01T00:00:00Z", "9999-12-31T23:30:00Z"])
def test_labour_starting_in_the_future_is_a_400_naming_started_at(
    as_user, technician, site_a, started_at
):
    wo = WorkOrderFactory(site=site_a)

    response = as_user(technician).post(
        url(wo, "labour"), {"hours": "2", "started_at": started_at}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"started_at": ["Labour cannot start in the future."]}
    assert not wo.labour.exists()


def test_a_technician_ticks_checklist_steps(as_user, technician, site_a):
    wo = WorkOrderFactory(
        site=site_a,
        assignee=technician,
        steps=["Lock out", {"text": "Measure vibration", "requires_value": True, "unit": "mm/s"}],
    )
    move_to(wo, Status.IN_PROGRESS)
    first, second = wo.steps.all()
    client = as_user(technician)

    ok = client.post(url(wo, f"steps/{first.pk}"), {"result": "done"}, format="json")
    assert ok.status_code == 200, ok.data
    assert ok.data["done"] is True
    assert ok.data["done_by"] == technician.pk

    missing = client.post(url(wo, f"steps/{second.pk}"), {"done": True}, format="json")
    assert missing.status_code == 400
    assert "value" in missing.data
    measured = client.post(url(wo, f"steps/{second.pk}"), {"value": "4.2"}, format="json")
    assert measured.status_code == 200
    second.refresh_from_db()
    assert second.value == Decimal("4.2")

    detail = client.get(url(wo)).data
    assert [s["done"] for s in detail["steps"]] == [True, True]


def test_a_step_of_another_work_order_is_404(as_user, technician, site_a):
    wo = move_to(WorkOrderFactory(site=site_a, steps=["a"]), Status.IN_PROGRESS)
    other = WorkOrderFactory(site=site_a, steps=["b"])
    response = as_user(technician).post(
        url(wo, f"steps/{other.steps.get().pk}"), {"done": True}, format="json"
    )
    assert response.status_code == 404


def test_ticking_a_step_before_the_work_started_is_409(as_user, technician, site_a):
    wo = WorkOrderFactory(site=site_a, steps=["a"])
    response = as_user(technician).post(
        url(wo, f"steps/{wo.steps.get().pk}"), {"done": True}, format="json"
    )
    assert response.status_code == 409


def test_issuing_parts_writes_the_ledger(as_user, technician, site_a):
    wo = move_to(WorkOrderFactory(site=site_a, assignee=technician), Status.IN_PROGRESS)
    stock = StockFactory(storeroom__site=site_a, on_hand=Decimal("10"))
    response = as_user(technician).post(
        url(wo, "issue-part"), {"stock": stock.pk, "quantity": "3"}, format="json"
    )
    assert response.status_code == 201, response.data
    assert Decimal(response.data["quantity"]) == Decimal("-3")
    assert response.data["work_order"] == wo.pk
    stock.refresh_from_db()
    assert stock.on_hand == Decimal("7")


def test_issuing_more_than_available_is_409(as_user, technician, site_a):
    wo = move_to(WorkOrderFactory(site=site_a), Status.IN_PROGRESS)
    stock = StockFactory(storeroom__site=site_a, on_hand=Decimal("2"))
    response = as_user(technician).post(
        url(wo, "issue-part"), {"stock": stock.pk, "quantity": "3"}, format="json"
    )
    assert response.status_code == 409
    assert "available" in response.data["detail"]
    stock.refresh_from_db()
    assert stock.on_hand == Decimal("2")


def test_parts_of_another_site_cannot_be_issued(as_user, technician, site_a, site_b):
    wo = move_to(WorkOrderFactory(site=site_a), Status.IN_PROGRESS)
    stock = StockFactory(storeroom__site=site_b)
    response = as_user(technician).post(
        url(wo, "issue-part"), {"stock": stock.pk, "quantity": "1"}, format="json"
    )
    assert response.status_code == 400
    assert "Invalid pk" in str(response.data["stock"])


@pytest.mark.parametrize("path", ["labour", "issue-part", "assign"])
def test_customer_viewers_cannot_execute_work(path, as_user, viewer, site_a):
    wo = WorkOrderFactory(site=site_a)
    response = as_user(viewer).post(url(wo, path), {"hours": "1"}, format="json")
    assert response.status_code == 403


# ---------------------------------------------------------------- reads and filters


def test_the_detail_has_the_checklist_and_the_list_does_not(as_user, planner, site_a):
    wo = WorkOrderFactory(site=site_a, steps=["Lock out", "Inspect"])
    client = as_user(planner)
    detail = client.get(url(wo)).data
    assert [s["text"] for s in detail["steps"]] == ["Lock out", "Inspect"]
    row = client.get("/api/v1/work-orders/").data["results"][0]
    assert "steps" not in row
    assert {"id", "number", "site", "asset", "type", "priority", "status", "title"} <= set(row)
    assert {"assignee", "due_at", "is_overdue", "created_at", "problem", "cause"} <= set(row)


def _numbers(response):
    assert response.status_code == 200, response.data
    return {row["number"] for row in response.data["results"]}


def test_filter_by_status_takes_commas_or_repeats(as_user, planner, site_a):
    requested = WorkOrderFactory(site=site_a)
    approved = move_to(WorkOrderFactory(site=site_a), Status.APPROVED)
    scheduled = move_to(WorkOrderFactory(site=site_a), Status.SCHEDULED)
    client = as_user(planner)
    assert _numbers(client.get("/api/v1/work-orders/?status=requested,approved")) == {
        requested.number,
        approved.number,
    }
    assert _numbers(client.get("/api/v1/work-orders/?status=approved&status=scheduled")) == {
        approved.number,
        scheduled.number,
    }
    bad = client.get("/api/v1/work-orders/?status=bogus")
    assert bad.status_code == 400
    assert "status" in bad.data


def test_choice_filters_use_in_and_no_distinct(as_user, planner, site_a):
    """Several statuses are one `IN`, which composite indexes serve, and no DISTINCT: on a
    large table DISTINCT sorts and counts whole rows, and a column filter has no duplicates."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    scheduled = move_to(WorkOrderFactory(site=site_a, priority=1), Status.SCHEDULED)
    move_to(WorkOrderFactory(site=site_a, priority=3), Status.SCHEDULED)
    WorkOrderFactory(site=site_a, priority=1)
    client = as_user(planner)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/api/v1/work-orders/?status=scheduled,in_progress&priority=1,2")
    assert _numbers(response) == {scheduled.number}
    listing = [q["sql"] for q in ctx.captured_queries if "workorders_workorder" in q["sql"]]
    assert listing and not any("DISTINCT" in sql for sql in listing), listing
    assert all('"status" IN (' in sql for sql in listing), listing


def test_filter_by_assignee_me_and_none(as_user, technician, site_a):
    mine = WorkOrderFactory(site=site_a, assignee=technician)
    nobodys = WorkOrderFactory(site=site_a)
    colleague = TechnicianFactory(sites=[site_a])
    WorkOrderFactory(site=site_a, assignee=colleague)
    client = as_user(technician)
    assert _numbers(client.get("/api/v1/work-orders/?assignee=me")) == {mine.number}
    assert _numbers(client.get("/api/v1/work-orders/?assignee=none")) == {nobodys.number}
    assert _numbers(client.get(f"/api/v1/work-orders/?assignee={technician.pk}")) == {mine.number}
    assert client.get("/api/v1/work-orders/?assignee=someone").status_code == 400


@pytest.mark.usefixtures("site_clock")
def test_filter_overdue(as_user, planner, site_a):
    past = timezone.now() - timezone.timedelta(days=1)
    late = WorkOrderFactory(site=site_a, due_at=past)
    done_late = move_to(WorkOrderFactory(site=site_a, due_at=past), Status.CANCELLED)
    on_time = WorkOrderFactory(site=site_a)
    client = as_user(planner)
    overdue = client.get("/api/v1/work-orders/?overdue=true")
    assert _numbers(overdue) == {late.number}
    assert overdue.data["results"][0]["is_overdue"] is True
    assert _numbers(client.get("/api/v1/work-orders/?overdue=false")) == {
        done_late.number,
        on_time.number,
    }


def test_filters_by_asset_site_priority_and_type(as_user, planner, site_a, site_b):
    planner.sites.add(site_b)
    asset = AssetFactory(site=site_a)
    a = WorkOrderFactory(site=site_a, asset=asset, priority=1, type=WorkOrderType.INSPECTION)
    b = WorkOrderFactory(site=site_b, priority=4)
    client = as_user(planner)
    assert _numbers(client.get(f"/api/v1/work-orders/?asset={asset.pk}")) == {a.number}
    assert _numbers(client.get(f"/api/v1/work-orders/?site={site_b.pk}")) == {b.number}
    assert _numbers(client.get("/api/v1/work-orders/?priority=1,2")) == {a.number}
    assert _numbers(client.get("/api/v1/work-orders/?type=inspection")) == {a.number}
