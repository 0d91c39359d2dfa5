"""Incremental sync (issue 17 §3, docs/sync.md): `updated_at` filters, `ordering`, keyset pages
(`?cursor=`) and the tombstones of deleted rows, as an integrator mirroring the data uses them.
"""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assets.models import Part, Stock
from pm.models import PMPlan
from tests.factories import (
    JobPlanFactory,
    PartFactory,
    PlannerFactory,
    PMPlanFactory,
    StockFactory,
    WorkOrderFactory,
    move_to,
)
from workorders.choices import Status

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _cursor_of(next_link: str) -> str:
    return parse_qs(urlsplit(next_link).query)["cursor"][0]


def _walk_one_page(client, url, cursor=""):
    response = client.get(url, {"cursor": cursor, "page_size": 3})
    assert response.status_code == 200, response.data
    assert "count" not in response.data  # keyset pages do not count (docs/sync.md)
    versions = [
        (row["id"], datetime.fromisoformat(row["updated_at"])) for row in response.data["results"]
    ]
    following = response.data["next"]
    return versions, _cursor_of(following) if following else None


def _touch(part, clock, name):
    clock.shift(timedelta(seconds=1))
    part.name = name
    part.save()


# ------------------------------------------------------------------- the keyset walk


def test_a_keyset_walk_sees_every_change_exactly_once_while_writes_continue(as_user, superuser):
    client = as_user(superuser)
    with time_machine.travel(T0, tick=False) as clock:
        # Seven parts written in the same instant: ties across the page boundaries.
        parts = [PartFactory(sku=f"SKU-{n}") for n in range(7)]
        seen, cursor, pages = [], "", 0
        while True:
            versions, cursor = _walk_one_page(client, "/api/v1/parts/", cursor)
            seen += versions
            pages += 1
            if pages == 1:
                _touch(parts[0], clock, "changed behind the cursor")  # already seen
                _touch(parts[5], clock, "changed ahead of the cursor")  # not reached yet
                clock.shift(timedelta(seconds=1))
                PartFactory(sku="SKU-new")  # created while the walk goes on
            if pages == 2:
                _touch(parts[6], clock, "changed again ahead")
            if cursor is None:
                break

    final = {(part.pk, part.updated_at) for part in Part.objects.all()}
    assert len(seen) == len(set(seen)), "a version was listed twice"
    assert final <= set(seen), "a row's last version was never listed"
    assert {pk for pk, _ in seen} == {pk for pk, _ in final}
    # The part changed behind the cursor is seen twice: first version, then the new one.
    assert [at for pk, at in seen if pk == parts[0].pk] == sorted(
        at for pk, at in seen if pk == parts[0].pk
    )
    assert len([pk for pk, _ in seen if pk == parts[0].pk]) == 2


def test_an_offset_walk_would_skip_the_row_the_keyset_walk_keeps(as_user, superuser):
    """Why cursors: the same interleaving with page numbers loses a row."""
    client = as_user(superuser)
    with time_machine.travel(T0, tick=False) as clock:
        parts = [PartFactory(sku=f"SKU-{n}") for n in range(6)]
        query = {"ordering": "updated_at", "page_size": 3}
        first = client.get("/api/v1/parts/", {**query, "page": 1}).data["results"]
        _touch(parts[0], clock, "moves to the end")
        second = client.get("/api/v1/parts/", {**query, "page": 2}).data["results"]
    missed = {p.pk for p in parts} - {row["id"] for row in first + second}
    assert missed == {parts[3].pk}


def test_cursor_pages_follow_the_requested_ordering_backwards_too(as_user, superuser):
    client = as_user(superuser)
    with time_machine.travel(T0, tick=False) as clock:
        for n in range(5):
            clock.shift(timedelta(seconds=n % 2))  # pairs of equal timestamps
            PartFactory(sku=f"SKU-{n}")
    first = client.get(
        "/api/v1/parts/", {"ordering": "-updated_at", "cursor": "", "page_size": 2}
    ).data
    second = client.get(first["next"]).data
    rows = first["results"] + second["results"]
    keys = [(row["updated_at"], row["id"]) for row in rows]
    assert keys == sorted(keys, reverse=True)
    assert len({row["id"] for row in rows}) == 4


def test_each_cursor_page_costs_the_same_number_of_queries(as_user, planner, site_a):
    client = as_user(planner)
    for _ in range(9):
        WorkOrderFactory(site=site_a)
    counts, cursor = [], ""
    for _ in range(3):
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/api/v1/work-orders/", {"cursor": cursor, "page_size": 3})
        assert response.status_code == 200, response.data
        counts.append(len(queries))
        cursor = _cursor_of(response.data["next"]) if response.data["next"] else ""
    assert counts[0] == counts[1] == counts[2]


# ------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "cursor",
    ["garbage", "eyJvIjpbInVwZGF0ZWRfYXQiLCJpZCJdLCJ2IjpbIngiLCIxIl19:1abc:forged"],
)
def test_a_tampered_cursor_answers_400_naming_the_cursor(as_user, superuser, cursor):
    response = as_user(superuser).get("/api/v1/parts/", {"cursor": cursor})
    assert response.status_code == 400
    assert "cursor" in response.data


def test_a_cursor_of_another_ordering_answers_400(as_user, superuser):
    client = as_user(superuser)
    PartFactory.create_batch(3)
    first = client.get("/api/v1/parts/", {"cursor": "", "page_size": 1}).data
    response = client.get(
        "/api/v1/parts/", {"cursor": _cursor_of(first["next"]), "ordering": "-id"}
    )
    assert response.status_code == 400
    assert "cursor" in response.data


@pytest.mark.parametrize("ordering", ["name", "-unit_cost", "updated_at,name", ","])
def test_ordering_by_an_unindexed_or_unknown_field_answers_400(as_user, superuser, ordering):
    response = as_user(superuser).get("/api/v1/parts/", {"ordering": ordering})
    assert response.status_code == 400
    assert "ordering" in response.data


def test_a_list_that_offers_no_ordering_refuses_one(as_user, superuser):
    response = as_user(superuser).get("/api/v1/sites/", {"ordering": "id"})
    assert response.status_code == 400
    assert "ordering" in response.data


@pytest.mark.parametrize(
    "value", ["yesterday", "2026-13-01T00:00:00Z", "0001-01-01T00:00:00+23:59", "9999-12-31T23:59Z"]
)
def test_a_bad_updated_at_answers_400_naming_the_filter(as_user, superuser, value):
    response = as_user(superuser).get("/api/v1/parts/", {"updated_at__gte": value})
    assert response.status_code == 400
    assert "updated_at__gte" in response.data


def test_without_ordering_a_list_keeps_its_own_order(as_user, superuser):
    for sku in ("C", "A", "B"):
        PartFactory(sku=sku)
    rows = as_user(superuser).get("/api/v1/parts/").data["results"]
    assert [row["sku"] for row in rows] == ["A", "B", "C"]


def test_ordering_appends_the_id_as_tie_breaker(as_user, superuser):
    with time_machine.travel(T0, tick=False):
        parts = PartFactory.create_batch(4)
    rows = as_user(superuser).get("/api/v1/parts/", {"ordering": "-updated_at"}).data["results"]
    assert [row["id"] for row in rows] == sorted((p.pk for p in parts), reverse=True)


# ------------------------------------------------------------------- every synced list


SYNCED_LISTS = [
    "/api/v1/work-orders/",
    "/api/v1/assets/",
    "/api/v1/parts/",
    "/api/v1/stock/",
    "/api/v1/stock-movements/",
    "/api/v1/alerts/",
    "/api/v1/meter-readings/",
    "/api/v1/pm-plans/",
    "/api/v1/users/",
    "/api/v1/deletions/",
]


@pytest.mark.parametrize("url", SYNCED_LISTS)
def test_every_synced_list_walks_with_a_cursor_and_filters_by_time(as_user, planner, url):
    client = as_user(planner)
    since = "deleted_at__gte" if "deletions" in url else "updated_at__gte"
    response = client.get(url, {"cursor": "", since: "2020-01-01T00:00:00Z"})
    assert response.status_code == 200, response.data
    assert set(response.data) == {"next", "results"}
    bad = client.get(url, {since: "not a time"})
    assert bad.status_code == 400
    assert since in bad.data


# ------------------------------------------------------------------- deletions and cancellations


def test_a_cancelled_work_order_reappears_in_the_sync_as_cancelled(as_user, planner, site_a):
    client = as_user(planner)
    with time_machine.travel(T0, tick=False) as clock:
        work_order = WorkOrderFactory(site=site_a)
        clock.shift(timedelta(minutes=5))
        since = _iso(T0 + timedelta(minutes=5))
        move_to(work_order, Status.CANCELLED, by=planner)
    response = client.get("/api/v1/work-orders/", {"updated_at__gte": since})
    assert response.status_code == 200, response.data
    assert [(row["id"], row["status"]) for row in response.data["results"]] == [
        (work_order.pk, Status.CANCELLED)
    ]


def test_a_deleted_part_and_a_deleted_pm_plan_are_listed_as_deletions(
    as_user, superuser, planner, site_a
):
    part = PartFactory()
    plan = PMPlanFactory(site=site_a)
    since = _iso(datetime.now(UTC) - timedelta(days=1))
    assert as_user(superuser).delete(f"/api/v1/parts/{part.pk}/").status_code == 204
    PMPlan.objects.get(pk=plan.pk).delete()  # the admin's path: PM plans have no API delete

    response = as_user(planner).get("/api/v1/deletions/", {"deleted_at__gte": since})
    assert response.status_code == 200, response.data
    listed = {(row["resource"], row["object_id"], row["site"]) for row in response.data["results"]}
    assert listed == {("parts", part.pk, None), ("pm-plans", plan.pk, site_a.pk)}
    only_parts = as_user(planner).get("/api/v1/deletions/", {"resource": "parts"})
    assert [row["object_id"] for row in only_parts.data["results"]] == [part.pk]


def test_a_planner_of_site_a_never_sees_the_tombstones_of_site_b(as_user, site_a, site_b):
    planner_a = PlannerFactory(sites=[site_a])
    planner_b = PlannerFactory(sites=[site_b])
    stock_a = StockFactory(storeroom__site=site_a).pk
    stock_b = StockFactory(storeroom__site=site_b).pk
    Stock.objects.filter(pk__in=[stock_a, stock_b]).delete()

    def deletions_seen_by(user):
        rows = as_user(user).get("/api/v1/deletions/", {"resource": "stock"}).data["results"]
        return {row["object_id"] for row in rows}

    assert deletions_seen_by(planner_a) == {stock_a}
    assert deletions_seen_by(planner_b) == {stock_b}


def test_updated_at_filters_stay_within_the_users_sites(as_user, planner, site_a, site_b):
    mine = WorkOrderFactory(site=site_a)
    WorkOrderFactory(site=site_b)
    response = as_user(planner).get(
        "/api/v1/work-orders/", {"updated_at__gte": "2000-01-01T00:00:00Z", "cursor": ""}
    )
    assert [row["id"] for row in response.data["results"]] == [mine.pk]


def test_a_deleted_users_tombstones_reach_the_planners_of_its_sites_only(
    as_user, site_a, site_b, technician
):
    planner_a = PlannerFactory(sites=[site_a])
    planner_b = PlannerFactory(sites=[site_b])
    gone = technician.pk
    technician.delete()

    def users_deleted_seen_by(user):
        rows = as_user(user).get("/api/v1/deletions/", {"resource": "users"}).data["results"]
        return {row["object_id"] for row in rows}

    assert users_deleted_seen_by(planner_a) == {gone}
    assert users_deleted_seen_by(planner_b) == set()


def test_a_nested_list_refuses_a_cursor_rather_than_failing(as_user, planner, site_a):
    work_order = WorkOrderFactory(site=site_a)
    response = as_user(planner).get(f"/api/v1/work-orders/{work_order.pk}/history/?cursor=")
    assert response.status_code == 400
    assert "cursor" in response.data


def test_a_job_plan_deleted_through_the_api_is_a_deletion_of_its_site(
    as_user, planner, site_a, site_b
):
    plan = JobPlanFactory(site=site_a)
    gone = plan.pk
    assert as_user(planner).delete(f"/api/v1/job-plans/{gone}/").status_code == 204
    rows = as_user(planner).get("/api/v1/deletions/", {"resource": "job-plans"}).data["results"]
    assert [(row["object_id"], row["site"]) for row in rows] == [(gone, site_a.pk)]
    other = PlannerFactory(sites=[site_b])
    assert as_user(other).get("/api/v1/deletions/").data["results"] == []
