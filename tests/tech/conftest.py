from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from alerts.models import Alert
from tests.factories import (
    AssetFactory,
    CustomerViewerFactory,
    GatewayFactory,
    PartFactory,
    PlannerFactory,
    SiteFactory,
    StockFactory,
    StoreroomFactory,
    TechnicianFactory,
    WorkOrderFactory,
    failure_codes,
    move_to,
)
from workorders import services as wo_services
from workorders.choices import WorkOrderType


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
    return TechnicianFactory(username="carl", sites=[site])


@pytest.fixture
def planner(site, other_site):
    return PlannerFactory(username="paula", sites=[site, other_site])


@pytest.fixture
def viewer(site):
    return CustomerViewerFactory(username="victor", sites=[site])


@pytest.fixture
def codes():
    return failure_codes()


@pytest.fixture
def stock(site):
    return StockFactory(
        storeroom=StoreroomFactory(site=site, code="main"),
        part=PartFactory(sku="BRG-6205", name="Ball bearing 6205"),
        on_hand=Decimal("5"),
    )


@pytest.fixture
def pump(site):
    area = AssetFactory(site=site, tag="AREA-1", name="Pump house", level="area")
    return AssetFactory(site=site, parent=area, tag="P-101", name="Cooling water pump")


def scheduled_work(site, *, assignee=None, asset=None, steps=(), **fields):
    """A condition-based work order moved to scheduled by a planner, ready for the field."""
    wo = WorkOrderFactory(
        site=site,
        asset=asset or AssetFactory(site=site),
        type=fields.pop("type", WorkOrderType.CONDITION_BASED),
        steps=steps,
        **fields,
    )
    move_to(wo, "scheduled")
    if assignee is not None:
        wo_services.work_order_assign(work_order=wo, assignee=assignee)
    return wo


@pytest.fixture
def work(site, technician, pump):
    wo = scheduled_work(
        site,
        assignee=technician,
        asset=pump,
        title="High vibration on P-101",
        condition="vibration_high",
        steps=[
            "Check coupling alignment",
            {"text": "Measure bearing vibration", "requires_value": True, "unit": "mm/s"},
        ],
    )
    gateway = GatewayFactory(site=site)
    Alert.objects.create(
        gateway=gateway,
        site=site,
        alert_id="a-1",
        asset=pump,
        asset_tag=pump.tag,
        condition="vibration_high",
        severity="major",
        observed_at=timezone.now(),
        value=11.2,
        threshold=7.1,
        unit="mm/s",
        work_order=wo,
    )
    return wo


@pytest.fixture
def client_for():
    def make(user, *, csrf=False):
        client = Client(enforce_csrf_checks=csrf)
        client.force_login(user)
        return client

    return make
