"""Every list endpoint answers in a constant number of queries, however many rows it returns."""

import itertools
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assets import services as asset_services
from tests.factories import (
    AssetFactory,
    EquipmentClassFactory,
    FailureCodeFactory,
    MeterFactory,
    PartFactory,
    SiteFactory,
    StockFactory,
    StoreroomFactory,
    TechnicianFactory,
    WorkOrderFactory,
    move_to,
)
from workorders.choices import Status

pytestmark = pytest.mark.django_db


def _sites(planner, site, n):
    for _ in range(n):
        planner.sites.add(SiteFactory())


def _customers(planner, site, n):
    for _ in range(n):
        planner.sites.add(SiteFactory())  # each with a customer of its own


def _users(planner, site, n):
    for _ in range(n):
        TechnicianFactory(sites=[site], skills=["mechanical", "electrical"])


def _assets(planner, site, n):
    parent = AssetFactory(site=site)
    for _ in range(n - 1):
        AssetFactory(site=site, parent=parent, equipment_class=EquipmentClassFactory())


_codes = itertools.count()


def _equipment_classes(planner, site, n):
    for _ in range(n):
        EquipmentClassFactory(code=f"class{next(_codes)}")


def _parts(planner, site, n):
    PartFactory.create_batch(n)


def _storerooms(planner, site, n):
    StoreroomFactory.create_batch(n, site=site)


def _stock(planner, site, n):
    StockFactory.create_batch(n, storeroom=StoreroomFactory(site=site))


def _movements(planner, site, n):
    stock = StockFactory(storeroom__site=site)
    for _ in range(n):
        asset_services.stock_receive(stock=stock, quantity=Decimal("1"), by=planner)


def _meters(planner, site, n):
    for _ in range(n):
        MeterFactory(asset=AssetFactory(site=site))


def _failure_codes(planner, site, n):
    FailureCodeFactory.create_batch(n)


def _work_orders(planner, site, n):
    technician = TechnicianFactory(sites=[site])
    problem = FailureCodeFactory(code="VIB")
    for _ in range(n):
        WorkOrderFactory(site=site, assignee=technician, problem=problem, steps=["a", "b"])


LISTS = {
    "/api/v1/sites/": _sites,
    "/api/v1/customers/": _customers,
    "/api/v1/users/": _users,
    "/api/v1/assets/": _assets,
    "/api/v1/equipment-classes/": _equipment_classes,
    "/api/v1/parts/": _parts,
    "/api/v1/storerooms/": _storerooms,
    "/api/v1/stock/": _stock,
    "/api/v1/stock-movements/": _movements,
    "/api/v1/meters/": _meters,
    "/api/v1/failure-codes/": _failure_codes,
    "/api/v1/work-orders/": _work_orders,
}


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.data
    return len(queries), response.data["count"]


@pytest.mark.parametrize("url", LISTS)
def test_a_list_takes_the_same_number_of_queries_for_3_and_15_rows(url, as_user, planner, site_a):
    client = as_user(planner)
    LISTS[url](planner, site_a, 3)
    few, few_rows = _count_queries(client, url)
    LISTS[url](planner, site_a, 12)
    many, many_rows = _count_queries(client, url)
    assert many_rows >= few_rows + 12
    assert many == few
    assert few <= 6


def test_asset_subtree_and_ancestors_take_constant_queries(as_user, planner, site_a):
    client = as_user(planner)
    top = AssetFactory(site=site_a)
    leaf = top
    for _ in range(3):
        leaf = AssetFactory(site=site_a, parent=leaf)
    few = [
        _count_queries(client, f"/api/v1/assets/{x.pk}/{a}/")[0]
        for x, a in [(top, "subtree"), (leaf, "ancestors")]
    ]
    for _ in range(12):
        leaf = AssetFactory(site=site_a, parent=leaf)
    many = [
        _count_queries(client, f"/api/v1/assets/{x.pk}/{a}/")[0]
        for x, a in [(top, "subtree"), (leaf, "ancestors")]
    ]
    assert few == many


def test_work_order_history_takes_constant_queries(as_user, planner, site_a):
    client = as_user(planner)
    short = WorkOrderFactory(site=site_a)
    long = move_to(WorkOrderFactory(site=site_a), Status.CLOSED, by=planner)
    assert (
        _count_queries(client, f"/api/v1/work-orders/{short.pk}/history/")[0]
        == _count_queries(client, f"/api/v1/work-orders/{long.pk}/history/")[0]
    )
