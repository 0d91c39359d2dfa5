from decimal import Decimal

import pytest

from assets import services as asset_services
from tests.factories import (
    AssetFactory,
    MeterFactory,
    PlannerFactory,
    SiteFactory,
    StockFactory,
    StoreroomFactory,
    TechnicianFactory,
    WorkOrderFactory,
    move_to,
)
from workorders import services as wo_services
from workorders.choices import Status


class Plant:
    """One site with a planner, a technician, a small hierarchy, stock and some work."""

    def __init__(self, code: str):
        self.site = SiteFactory(code=code, name=f"Plant {code}")
        self.planner = PlannerFactory(username=f"planner-{code}", sites=[self.site])
        self.technician = TechnicianFactory(username=f"tech-{code}", sites=[self.site])
        self.area = AssetFactory(site=self.site, tag=f"A-{code}", name="Area")
        self.line = AssetFactory(site=self.site, tag=f"L-{code}", name="Line", parent=self.area)
        self.pump = AssetFactory(site=self.site, tag=f"P-{code}", name="Pump", parent=self.line)
        self.meter = MeterFactory(asset=self.pump)
        self.storeroom = StoreroomFactory(site=self.site, code=f"main-{code}")
        self.stock = StockFactory(storeroom=self.storeroom, on_hand=Decimal("0"))
        asset_services.stock_receive(stock=self.stock, quantity=10, by=self.planner, reason="PO 1")
        self.work_order = WorkOrderFactory(
            site=self.site, asset=self.pump, title=f"Fix pump {code}", steps=["LOTO", "Fix"]
        )
        move_to(self.work_order, Status.IN_PROGRESS, by=self.planner)
        wo_services.work_order_assign(
            work_order=self.work_order, assignee=self.technician, by=self.planner
        )
        wo_services.work_order_issue_part(
            work_order=self.work_order, stock=self.stock, quantity=1, by=self.planner
        )
        wo_services.labour_add(
            work_order=self.work_order, technician=self.technician, hours=1, by=self.planner
        )


@pytest.fixture
def plant_a(db):
    return Plant("aaa")


@pytest.fixture
def plant_b(db):
    return Plant("bbb")


@pytest.fixture
def planner_client(client, plant_a):
    client.force_login(plant_a.planner)
    return client
