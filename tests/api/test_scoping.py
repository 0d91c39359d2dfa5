"""Site scoping on every resource: another site's objects are 404 and cannot be written into."""

from dataclasses import dataclass
from typing import Any

import pytest

from assets import services as asset_services
from tests.factories import (
    AssetFactory,
    MeterFactory,
    PartFactory,
    StockFactory,
    StoreroomFactory,
    TechnicianFactory,
    WorkOrderFactory,
)

pytestmark = pytest.mark.django_db

NONEXISTENT = 987654321


@dataclass
class Resource:
    url: str
    make: Any  # site -> an object of that site
    payload: Any = None  # site -> a create payload that points into that site
    field: str = ""  # the field that must refuse the other site's object

    def __str__(self):
        return self.url


def _movement(site):
    stock = StockFactory(storeroom__site=site)
    return asset_services.stock_receive(stock=stock, quantity=1)


RESOURCES = [
    Resource("sites", lambda s: s),
    Resource("customers", lambda s: s.customer),
    Resource(
        "assets",
        lambda s: AssetFactory(site=s),
        lambda s: {"site": s.pk, "tag": "NEW-1", "name": "New pump"},
        "site",
    ),
    Resource(
        "meters",
        lambda s: MeterFactory(asset__site=s),
        lambda s: {"asset": AssetFactory(site=s).pk, "code": "hours", "name": "H", "unit": "h"},
        "asset",
    ),
    Resource(
        "storerooms",
        lambda s: StoreroomFactory(site=s),
        lambda s: {"site": s.pk, "code": "new", "name": "New store"},
        "site",
    ),
    Resource(
        "stock",
        lambda s: StockFactory(storeroom__site=s),
        lambda s: {"part": PartFactory().pk, "storeroom": StoreroomFactory(site=s).pk},
        "storeroom",
    ),
    Resource("stock-movements", _movement),
    Resource(
        "work-orders",
        lambda s: WorkOrderFactory(site=s),
        lambda s: {"site": s.pk, "title": "Leak at the seal"},
        "site",
    ),
    Resource(
        "users",
        lambda s: TechnicianFactory(sites=[s]),
        lambda s: {"username": "newtech", "password": "a-Long-passphrase-9", "sites": [s.pk]},
        "sites",
    ),
]
WRITABLE = [r for r in RESOURCES if r.payload]


def _ids(response):
    return {row["id"] for row in response.data["results"]}


@pytest.mark.parametrize("resource", RESOURCES, ids=str)
def test_a_user_of_site_a_gets_404_for_site_b_objects(resource, as_user, planner, site_a, site_b):
    own = resource.make(site_a)
    foreign = resource.make(site_b)
    client = as_user(planner)

    assert client.get(f"/api/v1/{resource.url}/{foreign.pk}/").status_code == 404
    assert client.get(f"/api/v1/{resource.url}/{own.pk}/").status_code == 200
    listed = _ids(client.get(f"/api/v1/{resource.url}/"))
    assert own.pk in listed
    assert foreign.pk not in listed


@pytest.mark.parametrize("resource", RESOURCES, ids=str)
def test_a_superuser_sees_every_site(resource, as_user, superuser, site_a, site_b):
    a, b = resource.make(site_a), resource.make(site_b)
    listed = _ids(as_user(superuser).get(f"/api/v1/{resource.url}/", {"page_size": 500}))
    assert {a.pk, b.pk} <= listed


@pytest.mark.parametrize("resource", WRITABLE, ids=str)
def test_a_planner_cannot_create_objects_in_another_site(
    resource, as_user, planner, site_a, site_b
):
    client = as_user(planner)
    model = type(resource.make(site_a))
    foreign_payload = resource.payload(site_b)
    before = model.objects.count()

    response = client.post(f"/api/v1/{resource.url}/", foreign_payload, format="json")

    assert response.status_code == 400, response.data
    assert resource.field in response.data
    assert model.objects.count() == before
    # Refused exactly like an id that does not exist, so other sites cannot be probed.
    foreign_id = foreign_payload[resource.field]
    foreign_id = foreign_id[0] if isinstance(foreign_id, list) else foreign_id
    missing_payload = {**foreign_payload}
    missing_payload[resource.field] = (
        [NONEXISTENT] if isinstance(foreign_payload[resource.field], list) else NONEXISTENT
    )
    missing = client.post(f"/api/v1/{resource.url}/", missing_payload, format="json")
    assert str(response.data[resource.field]) == str(missing.data[resource.field]).replace(
        str(NONEXISTENT), str(foreign_id)
    )
    assert "Invalid pk" in str(response.data[resource.field])


@pytest.mark.parametrize("resource", WRITABLE, ids=str)
def test_a_planner_can_create_objects_in_their_own_site(resource, as_user, planner, site_a):
    response = as_user(planner).post(
        f"/api/v1/{resource.url}/", resource.payload(site_a), format="json"
    )
    assert response.status_code == 201, response.data


@pytest.mark.parametrize("resource", WRITABLE, ids=str)
def test_a_planner_cannot_change_another_sites_objects(resource, as_user, planner, site_b):
    foreign = resource.make(site_b)
    response = as_user(planner).patch(
        f"/api/v1/{resource.url}/{foreign.pk}/", {"name": "taken over"}, format="json"
    )
    assert response.status_code == 404


def test_actions_on_another_sites_work_order_are_404(as_user, planner, site_b):
    foreign = WorkOrderFactory(site=site_b)
    client = as_user(planner)
    for path, body in [
        ("transition", {"to": "approved"}),
        ("assign", {"assignee": None}),
        ("labour", {"hours": "1"}),
        ("issue-part", {"stock": 1, "quantity": "1"}),
    ]:
        response = client.post(f"/api/v1/work-orders/{foreign.pk}/{path}/", body, format="json")
        assert response.status_code == 404, path
    assert client.get(f"/api/v1/work-orders/{foreign.pk}/history/").status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == "requested"


def test_a_work_order_cannot_point_to_another_sites_asset(as_user, planner, site_a, site_b):
    foreign_asset = AssetFactory(site=site_b)
    response = as_user(planner).post(
        "/api/v1/work-orders/",
        {"site": site_a.pk, "asset": foreign_asset.pk, "title": "Leak"},
        format="json",
    )
    assert response.status_code == 400
    assert "Invalid pk" in str(response.data["asset"])


def test_stock_actions_on_another_sites_stock_are_404(as_user, planner, site_b):
    foreign = StockFactory(storeroom__site=site_b)
    client = as_user(planner)
    receive = client.post(f"/api/v1/stock/{foreign.pk}/receive/", {"quantity": "5"}, format="json")
    assert receive.status_code == 404
    foreign.refresh_from_db()
    assert foreign.on_hand == 10
