"""Changelists cost the same number of queries for 5 rows as for 30 (no per-row queries)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assets import services as asset_services
from tests.factories import (
    AssetFactory,
    MeterFactory,
    StockFactory,
    TechnicianFactory,
    WorkOrderFactory,
)
from workorders import services as wo_services

pytestmark = pytest.mark.django_db


def add_rows(plant, count):
    """`count` more rows of each listed kind at the plant, with related rows filled in."""
    for _ in range(count):
        parent = AssetFactory(site=plant.site, parent=plant.line)
        asset = AssetFactory(site=plant.site, parent=parent)
        MeterFactory(asset=asset)
        stock = StockFactory(storeroom=plant.storeroom, on_hand=Decimal("0"))
        asset_services.stock_receive(stock=stock, quantity=5, by=plant.planner, reason="PO")
        work_order = WorkOrderFactory(site=plant.site, asset=asset, by=plant.planner)
        wo_services.work_order_assign(
            work_order=work_order, assignee=plant.technician, by=plant.planner
        )
        wo_services.labour_add(
            work_order=work_order, technician=plant.technician, hours=1, by=plant.planner
        )
        TechnicianFactory(sites=[plant.site], skills=["mechanical", "electrical"])


CHANGELISTS = [
    "admin:workorders_workorder_changelist",
    "admin:assets_asset_changelist",
    "admin:assets_stock_changelist",
    "admin:assets_stockmovement_changelist",
    "admin:assets_meter_changelist",
    "admin:assets_storeroom_changelist",
    "admin:accounts_user_changelist",
    "admin:workorders_statuschange_changelist",
    "admin:workorders_workorderevent_changelist",
    "admin:workorders_labourentry_changelist",
    "admin:assets_part_changelist",
]


def queries_for(client, path):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200
    return len(ctx.captured_queries), response


@pytest.mark.parametrize("name", CHANGELISTS)
def test_a_changelist_makes_as_many_queries_for_30_rows_as_for_5(planner_client, plant_a, name):
    path = reverse(name)
    add_rows(plant_a, 4)
    few, _ = queries_for(planner_client, path)
    add_rows(plant_a, 25)
    many, response = queries_for(planner_client, path)
    if not name.endswith("storeroom_changelist"):
        assert response.context["cl"].result_count >= 30
    assert many == few, f"{name}: {few} queries for few rows, {many} for many"
    assert many <= 15
