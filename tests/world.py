"""One plant for every test package (loaded from tests/conftest.py as a pytest plugin).

Fixtures are named for what they return. The default plant is the North plant (code "north")
with the South plant beside it; tina and carl are technicians at North, paula plans there and
victor is a customer viewer there. A pump P-101 ("Cooling water pump") stands in the pump house
AREA-1, and the main storeroom holds 5 ball bearings BRG-6205. Packages that need another plant
build it in their own conftest from these factories (tests/factories.py).
"""

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client

from assets import services as asset_services
from tests.factories import (
    AssetFactory,
    CustomerViewerFactory,
    MeterFactory,
    PartFactory,
    PlannerFactory,
    SiteFactory,
    StockFactory,
    StoreroomFactory,
    SuperuserFactory,
    TechnicianFactory,
    WorkOrderFactory,
    failure_codes,
    move_to,
)
from workorders import services as wo_services
from workorders.choices import Status


@pytest.fixture
def site():
    return SiteFactory(code="north", name="North plant")


@pytest.fixture
def other_site():
    return SiteFactory(code="south", name="South plant")


@pytest.fixture
def technician(site):
    return TechnicianFactory(username="tina", sites=[site])


@pytest.fixture
def colleague(site):
    """A second technician at the same site."""
    return TechnicianFactory(username="carl", sites=[site])


@pytest.fixture
def planner(site):
    return PlannerFactory(username="paula", sites=[site])


@pytest.fixture
def planner_at_both_sites(site, other_site):
    return PlannerFactory(username="paula", sites=[site, other_site])


@pytest.fixture
def viewer(site):
    return CustomerViewerFactory(username="victor", sites=[site])


@pytest.fixture
def superuser():
    return SuperuserFactory()


@pytest.fixture
def pump(site):
    """P-101 below the area AREA-1 of the site."""
    area = AssetFactory(site=site, tag="AREA-1", name="Pump house", level="area")
    return AssetFactory(site=site, parent=area, tag="P-101", name="Cooling water pump")


@pytest.fixture
def stock(site):
    """5 ball bearings BRG-6205 in the site's main storeroom."""
    return StockFactory(
        storeroom=StoreroomFactory(site=site, code="main"),
        part=PartFactory(sku="BRG-6205", name="Ball bearing 6205"),
        on_hand=Decimal("5"),
    )


@pytest.fixture
def codes():
    """A (problem, cause, remedy) triple of failure codes."""
    return failure_codes()


@pytest.fixture
def client_for():
    """client_for(user, csrf=False): a test client logged in as that user."""

    def make(user, *, csrf=False):
        client = Client(enforce_csrf_checks=csrf)
        client.force_login(user)
        return client

    return make


@pytest.fixture
def as_user(api):
    """`as_user(user)` returns the API client authenticated as that user."""

    def login(user):
        api.force_authenticate(user)
        return api

    return login


@pytest.fixture
def empty_cache():
    """Rate limit counters and throttles live in the cache: the test starts and ends with none."""
    cache.clear()
    yield
    cache.clear()


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
    """Plant "aaa": see `Plant`."""
    return Plant("aaa")


@pytest.fixture
def plant_b(db):
    """Plant "bbb", a second plant like `plant_a`."""
    return Plant("bbb")
