"""Costs over the API: work order cost, labour overtime, stock receipts at a price, external
service lines, and the roll-up endpoint. Customer viewers never see a cost."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import (
    LabourRateFactory,
    ServiceLineFactory,
    WorkOrderFactory,
    move_to,
)
from workorders.choices import Status
from workorders.models import ServiceLine

pytestmark = pytest.mark.django_db


@pytest.fixture
def work(site, pump, technician):
    LabourRateFactory(hourly_cost=Decimal("40.00"), overtime_hourly_cost=Decimal("60.00"))
    return move_to(WorkOrderFactory(site=site, asset=pump, assignee=technician), Status.IN_PROGRESS)


def detail(api, work):
    return api.get(f"/api/v1/work-orders/{work.pk}/")


def test_a_planner_sees_the_work_orders_cost_and_a_customer_viewer_does_not(
    as_user, planner, viewer, work
):
    ServiceLineFactory(work_order=work, amount=Decimal("80.00"))
    answer = detail(as_user(planner), work)
    assert answer.status_code == 200
    assert answer.json()["cost"] == {
        "labour": "0.00",
        "parts": "0.00",
        "services": "80.00",
        "total": "80.00",
        "currency": "EUR",
        "labour_unpriced": False,
        "parts_unpriced": False,
    }
    seen_by_viewer = detail(as_user(viewer), work)
    assert seen_by_viewer.status_code == 200
    assert seen_by_viewer.json()["cost"] is None


def test_overtime_labour_is_priced_at_the_overtime_rate(as_user, technician, planner, work):
    answer = as_user(technician).post(
        f"/api/v1/work-orders/{work.pk}/labour/", {"hours": "1.5", "overtime": True}, format="json"
    )
    assert answer.status_code == 201, answer.content
    # 1.5 h x 60.00 = 90.00
    assert (answer.json()["cost_rate"], answer.json()["cost"]) == ("60.00", "90.00")
    assert detail(as_user(planner), work).json()["cost"]["labour"] == "90.00"


def test_labour_without_a_rate_says_it_is_unpriced(as_user, technician, planner, site, pump):
    unpriced = move_to(WorkOrderFactory(site=site, asset=pump), Status.IN_PROGRESS)
    as_user(technician).post(
        f"/api/v1/work-orders/{unpriced.pk}/labour/", {"hours": "2"}, format="json"
    )
    cost = detail(as_user(planner), unpriced).json()["cost"]
    assert (cost["labour"], cost["labour_unpriced"]) == ("0.00", True)


def test_stock_is_received_at_a_price_and_its_average_is_hidden_from_customer_viewers(
    as_user, planner, viewer, stock
):
    # 5 on hand at 0 (never valued) + 5 at 3.00 = 1.5000
    answer = as_user(planner).post(
        f"/api/v1/stock/{stock.pk}/receive/", {"quantity": "5", "unit_cost": "3.00"}, format="json"
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["average_cost"] == "1.5000"
    assert "average_cost" not in as_user(viewer).get(f"/api/v1/stock/{stock.pk}/").json()
    movements = as_user(viewer).get("/api/v1/stock-movements/").json()["results"]
    assert movements and all("unit_cost" not in m and "value" not in m for m in movements)
    planner_view = as_user(planner).get("/api/v1/stock-movements/").json()["results"][0]
    assert (planner_view["unit_cost"], planner_view["value"]) == ("3.0000", "15.00")


def test_a_negative_purchase_price_is_a_400(as_user, planner, stock):
    answer = as_user(planner).post(
        f"/api/v1/stock/{stock.pk}/receive/", {"quantity": "1", "unit_cost": "-2"}, format="json"
    )
    assert answer.status_code == 400
    assert "unit_cost" in answer.json()


def test_planners_add_correct_and_remove_service_lines(as_user, planner, work):
    api = as_user(planner)
    url = f"/api/v1/work-orders/{work.pk}/services/"
    added = api.post(
        url, {"vendor": "Crane Co", "description": "Crane hire", "amount": "250.50"}, format="json"
    )
    assert added.status_code == 201, added.content
    line_url = f"{url}{added.json()['id']}/"
    assert api.patch(line_url, {"amount": "260.00"}, format="json").json()["amount"] == "260.00"
    assert [line["vendor"] for line in api.get(url).json()] == ["Crane Co"]
    assert api.delete(line_url).status_code == 204
    assert not ServiceLine.objects.exists()


def test_service_lines_refuse_a_negative_amount(as_user, planner, work):
    answer = as_user(planner).post(
        f"/api/v1/work-orders/{work.pk}/services/",
        {"vendor": "X", "description": "Y", "amount": "-1"},
        format="json",
    )
    assert answer.status_code == 400
    assert "amount" in answer.json()


def test_technicians_do_not_write_service_lines_and_customer_viewers_do_not_see_them(
    as_user, technician, viewer, work
):
    ServiceLineFactory(work_order=work)
    url = f"/api/v1/work-orders/{work.pk}/services/"
    body = {"vendor": "V", "description": "D", "amount": "1.00"}
    assert as_user(technician).post(url, body, format="json").status_code == 403
    assert as_user(technician).get(url).status_code == 200
    assert as_user(viewer).get(url).status_code == 403


def test_another_sites_service_lines_answer_like_missing_ones(as_user, planner, other_site):
    foreign = WorkOrderFactory(site=other_site)
    line = ServiceLineFactory(work_order=foreign)
    api = as_user(planner)
    assert api.get(f"/api/v1/work-orders/{foreign.pk}/services/").status_code == 404
    assert (
        api.patch(
            f"/api/v1/work-orders/{foreign.pk}/services/{line.pk}/", {"amount": "1"}, format="json"
        ).status_code
        == 404
    )


def test_the_roll_up_counts_only_the_planners_sites(as_user, planner, work, other_site):
    ServiceLineFactory(work_order=work, amount=Decimal("10.00"))
    ServiceLineFactory(work_order=WorkOrderFactory(site=other_site), amount=Decimal("99.00"))
    today = timezone.localdate()
    answer = as_user(planner).get(
        "/api/v1/costs/",
        {"group_by": "site", "from": today.isoformat(), "to": (today + timedelta(days=1))},
    )
    assert answer.status_code == 200, answer.content
    assert [(r["id"], r["total"]) for r in answer.json()["results"]] == [(work.site_id, "10.00")]


@pytest.mark.parametrize(
    "query, field",
    [
        ({"group_by": "planet", "from": "2026-01-01", "to": "2026-02-01"}, "group_by"),
        ({"group_by": "site", "from": "2026-02-01", "to": "2026-01-01"}, "to"),
        ({"group_by": "site", "from": "yesterday", "to": "2026-01-01"}, "from"),
        ({"group_by": "site", "to": "2026-01-01"}, "from"),
        ({"group_by": "site", "from": "0001-01-01", "to": "2026-01-01"}, "from"),
        ({"group_by": "site", "from": "2026-01-01", "to": "9999-12-31"}, "to"),
    ],
)
def test_the_roll_up_refuses_bad_parameters_with_a_400(as_user, planner, query, field):
    answer = as_user(planner).get("/api/v1/costs/", query)
    assert answer.status_code == 400
    assert field in answer.json()


def test_only_planners_see_roll_ups(as_user, technician, viewer):
    query = {"group_by": "site", "from": date(2026, 1, 1), "to": date(2026, 2, 1)}
    assert as_user(technician).get("/api/v1/costs/", query).status_code == 403
    assert as_user(viewer).get("/api/v1/costs/", query).status_code == 403
