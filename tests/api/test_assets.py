"""Assets, catalogues, storerooms, stock and meters through the API."""

from decimal import Decimal

import pytest

from assets import services as asset_services
from assets.models import Asset, Customer, Part, Site, Stock, StockMovement
from tests.factories import (
    AssetFactory,
    EquipmentClassFactory,
    FailureCodeFactory,
    PartFactory,
    StockFactory,
    StoreroomFactory,
    WorkOrderFactory,
    move_to,
)
from workorders.choices import FailureCodeKind, Status

pytestmark = pytest.mark.django_db


def _ids(response):
    assert response.status_code == 200, response.data
    return {row["id"] for row in response.data["results"]}


# ---------------------------------------------------------------- assets


def test_a_planner_creates_an_asset_below_a_parent(as_user, planner, site_a):
    line = AssetFactory(site=site_a, tag="L1", level="line")
    response = as_user(planner).post(
        "/api/v1/assets/",
        {
            "site": site_a.pk,
            "parent": line.pk,
            "tag": "P-101",
            "name": "Feed pump",
            "criticality": "A",
            "equipment_class": EquipmentClassFactory(code="pump").pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.data
    assert response.data["path"] == f"{line.path}{response.data['id']}/"
    assert response.data["depth"] == 1


def test_a_duplicate_tag_in_the_site_is_a_400(as_user, planner, site_a):
    AssetFactory(site=site_a, tag="P-101")
    response = as_user(planner).post(
        "/api/v1/assets/", {"site": site_a.pk, "tag": "P-101", "name": "Again"}, format="json"
    )
    assert response.status_code == 400
    assert Asset.objects.filter(tag="P-101").count() == 1


def test_a_parent_of_another_site_is_refused(as_user, planner, site_a, site_b):
    foreign = AssetFactory(site=site_b)
    response = as_user(planner).post(
        "/api/v1/assets/",
        {"site": site_a.pk, "parent": foreign.pk, "tag": "X", "name": "X"},
        format="json",
    )
    assert response.status_code == 400
    assert "Invalid pk" in str(response.data["parent"])


def test_a_new_parent_moves_the_subtree(as_user, planner, site_a):
    old, new = AssetFactory(site=site_a), AssetFactory(site=site_a)
    unit = AssetFactory(site=site_a, parent=old)
    component = AssetFactory(site=site_a, parent=unit)
    response = as_user(planner).patch(
        f"/api/v1/assets/{unit.pk}/", {"parent": new.pk}, format="json"
    )
    assert response.status_code == 200, response.data
    component.refresh_from_db()
    assert component.path == f"/{new.pk}/{unit.pk}/{component.pk}/"


def test_an_asset_cannot_move_below_itself(as_user, planner, site_a):
    unit = AssetFactory(site=site_a)
    child = AssetFactory(site=site_a, parent=unit)
    response = as_user(planner).patch(
        f"/api/v1/assets/{unit.pk}/", {"parent": child.pk}, format="json"
    )
    assert response.status_code == 400
    assert "parent" in response.data


def test_an_asset_stays_at_its_site(as_user, planner, site_a, site_b):
    planner.sites.add(site_b)
    asset = AssetFactory(site=site_a)
    response = as_user(planner).patch(
        f"/api/v1/assets/{asset.pk}/", {"site": site_b.pk}, format="json"
    )
    assert response.status_code == 400
    assert "site" in response.data


@pytest.mark.parametrize("role", ["technician", "viewer"])
def test_only_planners_write_assets(role, request, as_user, site_a):
    user = request.getfixturevalue(role)
    asset = AssetFactory(site=site_a)
    client = as_user(user)
    assert client.get(f"/api/v1/assets/{asset.pk}/").status_code == 200
    created = client.post("/api/v1/assets/", {"site": site_a.pk, "tag": "T", "name": "T"})
    assert created.status_code == 403
    assert client.patch(f"/api/v1/assets/{asset.pk}/", {"name": "x"}).status_code == 403


def test_assets_are_never_deleted(as_user, planner, site_a):
    asset = AssetFactory(site=site_a)
    assert as_user(planner).delete(f"/api/v1/assets/{asset.pk}/").status_code == 405


def test_asset_filters(as_user, planner, site_a, site_b):
    planner.sites.add(site_b)
    pump = EquipmentClassFactory(code="pump")
    area = AssetFactory(site=site_a, tag="AREA")
    a = AssetFactory(site=site_a, parent=area, criticality="A", equipment_class=pump)
    b = AssetFactory(site=site_a, parent=a, state="down")
    other = AssetFactory(site=site_b, tag="AREA")
    client = as_user(planner)
    assert _ids(client.get(f"/api/v1/assets/?site={site_b.pk}")) == {other.pk}
    assert _ids(client.get("/api/v1/assets/?tag=AREA")) == {area.pk, other.pk}
    assert _ids(client.get(f"/api/v1/assets/?parent={area.pk}")) == {a.pk}
    assert _ids(client.get("/api/v1/assets/?criticality=A")) == {a.pk}
    assert _ids(client.get("/api/v1/assets/?state=down")) == {b.pk}
    assert _ids(client.get(f"/api/v1/assets/?equipment_class={pump.pk}")) == {a.pk}
    assert _ids(client.get("/api/v1/assets/?equipment_class=pump")) == {a.pk}
    assert _ids(client.get(f"/api/v1/assets/?subtree_of={area.pk}")) == {area.pk, a.pk, b.pk}


def test_subtree_of_another_sites_asset_is_a_400(as_user, planner, site_b):
    foreign = AssetFactory(site=site_b)
    response = as_user(planner).get(f"/api/v1/assets/?subtree_of={foreign.pk}")
    assert response.status_code == 400
    assert "subtree_of" in response.data


def test_ancestors_and_subtree_actions(as_user, technician, site_a):
    area = AssetFactory(site=site_a)
    line = AssetFactory(site=site_a, parent=area)
    unit = AssetFactory(site=site_a, parent=line)
    AssetFactory(site=site_a)  # unrelated
    client = as_user(technician)
    ancestors = client.get(f"/api/v1/assets/{unit.pk}/ancestors/")
    assert ancestors.status_code == 200
    assert [r["id"] for r in ancestors.data["results"]] == [area.pk, line.pk]
    subtree = client.get(f"/api/v1/assets/{area.pk}/subtree/")
    assert subtree.data["count"] == 3
    assert [r["id"] for r in subtree.data["results"]] == [area.pk, line.pk, unit.pk]


# ---------------------------------------------------------------- customers, sites, catalogues


def test_planners_see_the_customers_of_their_sites_only(as_user, planner, site_a, site_b):
    client = as_user(planner)
    assert _ids(client.get("/api/v1/customers/")) == {site_a.customer_id}
    assert client.post("/api/v1/customers/", {"name": "New"}).status_code == 403


def test_only_superusers_write_customers_and_sites(as_user, superuser, planner, site_a):
    client = as_user(superuser)
    customer = client.post("/api/v1/customers/", {"name": "ACME"}, format="json")
    assert customer.status_code == 201
    site = client.post(
        "/api/v1/sites/",
        {
            "customer": customer.data["id"],
            "code": "acme1",
            "name": "ACME 1",
            "timezone": "Asia/Tokyo",
        },
        format="json",
    )
    assert site.status_code == 201, site.data
    assert Site.objects.get(code="acme1").customer == Customer.objects.get(name="ACME")
    refused = as_user(planner).patch(f"/api/v1/sites/{site_a.pk}/", {"name": "x"}, format="json")
    assert refused.status_code == 403


def test_a_site_timezone_must_be_an_iana_zone(as_user, superuser, site_a):
    response = as_user(superuser).patch(
        f"/api/v1/sites/{site_a.pk}/", {"timezone": "Mars/Olympus"}, format="json"
    )
    assert response.status_code == 400
    assert "timezone" in response.data
    site_a.refresh_from_db()
    assert site_a.timezone == "Europe/Berlin"


def test_equipment_classes_read_for_all_written_by_superusers_only(
    as_user, technician, planner, superuser
):
    motor = EquipmentClassFactory(code="motor")
    assert as_user(technician).get("/api/v1/equipment-classes/").data["count"] == 1
    assert as_user(planner).get("/api/v1/equipment-classes/").data["count"] == 1
    fan = {"code": "fan", "name": "Fan"}
    assert as_user(technician).post("/api/v1/equipment-classes/", fan).status_code == 403
    assert as_user(planner).post("/api/v1/equipment-classes/", fan).status_code == 403
    renamed = as_user(planner).patch(f"/api/v1/equipment-classes/{motor.pk}/", {"name": "x"})
    assert renamed.status_code == 403
    assert as_user(planner).delete(f"/api/v1/equipment-classes/{motor.pk}/").status_code == 403
    created = as_user(superuser).post("/api/v1/equipment-classes/", fan, format="json")
    assert created.status_code == 201
    motor.refresh_from_db()
    assert motor.name != "x"


def test_parts_catalogue_and_deleting_a_part_in_use_is_409(
    as_user, technician, planner, superuser, site_a
):
    part = PartFactory(sku="BRG-6205")
    StockFactory(part=part, storeroom__site=site_a)
    unused = PartFactory()
    assert as_user(technician).get("/api/v1/parts/?sku=BRG-6205").data["count"] == 1
    assert as_user(technician).post("/api/v1/parts/", {"sku": "X", "name": "X"}).status_code == 403
    assert as_user(planner).post("/api/v1/parts/", {"sku": "X", "name": "X"}).status_code == 403
    assert as_user(planner).patch(f"/api/v1/parts/{part.pk}/", {"name": "x"}).status_code == 403
    assert as_user(planner).delete(f"/api/v1/parts/{unused.pk}/").status_code == 403
    client = as_user(superuser)
    in_use = client.delete(f"/api/v1/parts/{part.pk}/")
    assert in_use.status_code == 409
    assert "in use" in in_use.data["detail"]
    assert client.delete(f"/api/v1/parts/{unused.pk}/").status_code == 204
    assert list(Part.objects.all()) == [part]


def test_failure_codes_filter_by_kind_and_are_read_only(as_user, viewer, superuser):
    problem = FailureCodeFactory(kind=FailureCodeKind.PROBLEM, code="VIB")
    FailureCodeFactory(kind=FailureCodeKind.CAUSE, code="WEAR")
    response = as_user(viewer).get("/api/v1/failure-codes/?kind=problem")
    assert _ids(response) == {problem.pk}
    assert as_user(superuser).post("/api/v1/failure-codes/", {}).status_code == 405


# ---------------------------------------------------------------- storerooms, stock, meters


def test_a_planner_creates_stock_that_starts_empty(as_user, planner, site_a):
    storeroom = StoreroomFactory(site=site_a)
    part = PartFactory()
    response = as_user(planner).post(
        "/api/v1/stock/",
        {"part": part.pk, "storeroom": storeroom.pk, "on_hand": "50", "reorder_point": "4"},
        format="json",
    )
    assert response.status_code == 201, response.data
    assert Decimal(response.data["on_hand"]) == 0
    assert response.data["site"] == site_a.pk
    duplicate = as_user(planner).post(
        "/api/v1/stock/", {"part": part.pk, "storeroom": storeroom.pk}, format="json"
    )
    assert duplicate.status_code == 400


def test_on_hand_and_reserved_are_read_only(as_user, planner, site_a):
    stock = StockFactory(storeroom__site=site_a, on_hand=Decimal("10"))
    response = as_user(planner).patch(
        f"/api/v1/stock/{stock.pk}/",
        {"on_hand": "99", "reserved": "5", "bin": "A-1"},
        format="json",
    )
    assert response.status_code == 200
    stock.refresh_from_db()
    assert (stock.on_hand, stock.reserved, stock.bin) == (10, 0, "A-1")


def test_receiving_and_adjusting_stock_write_the_ledger(as_user, planner, site_a):
    stock = StockFactory(storeroom__site=site_a, on_hand=Decimal("10"))
    client = as_user(planner)
    received = client.post(
        f"/api/v1/stock/{stock.pk}/receive/", {"quantity": "5", "reason": "PO 4711"}, format="json"
    )
    assert received.status_code == 200, received.data
    assert Decimal(received.data["on_hand"]) == 15
    adjusted = client.post(
        f"/api/v1/stock/{stock.pk}/adjust/", {"counted": "12", "reason": "count"}, format="json"
    )
    assert Decimal(adjusted.data["on_hand"]) == 12
    kinds = list(StockMovement.objects.filter(stock=stock).values_list("kind", "quantity"))
    assert sorted(kinds) == [("adjustment", Decimal("-3")), ("receipt", Decimal("5"))]


def test_stock_actions_validate_their_input(as_user, planner, technician, site_a):
    stock = StockFactory(storeroom__site=site_a)
    client = as_user(planner)
    negative = client.post(f"/api/v1/stock/{stock.pk}/receive/", {"quantity": "-1"}, format="json")
    assert negative.status_code == 400
    assert "quantity" in negative.data
    no_reason = client.post(f"/api/v1/stock/{stock.pk}/adjust/", {"counted": "1"}, format="json")
    assert no_reason.status_code == 400
    assert "reason" in no_reason.data
    tech = as_user(technician).post(
        f"/api/v1/stock/{stock.pk}/receive/", {"quantity": "1"}, format="json"
    )
    assert tech.status_code == 403
    assert not StockMovement.objects.exists()


def test_stock_filters(as_user, planner, site_a):
    store1, store2 = StoreroomFactory(site=site_a), StoreroomFactory(site=site_a)
    low = StockFactory(storeroom=store1, on_hand=Decimal("1"), reorder_point=Decimal("2"))
    plenty = StockFactory(storeroom=store2, on_hand=Decimal("10"), reorder_point=Decimal("2"))
    client = as_user(planner)
    assert _ids(client.get("/api/v1/stock/?low=true")) == {low.pk}
    assert _ids(client.get("/api/v1/stock/?low=false")) == {plenty.pk}
    assert _ids(client.get(f"/api/v1/stock/?storeroom={store2.pk}")) == {plenty.pk}
    assert _ids(client.get(f"/api/v1/stock/?part={low.part_id}")) == {low.pk}
    assert _ids(client.get(f"/api/v1/stock/?site={site_a.pk}")) == {low.pk, plenty.pk}


def test_stock_movement_filters(as_user, planner, site_a):
    stock = StockFactory(storeroom__site=site_a)
    receipt = asset_services.stock_receive(stock=stock, quantity=2)
    wo = move_to(WorkOrderFactory(site=site_a), Status.IN_PROGRESS)
    issue = asset_services.stock_issue(stock=stock, quantity=1, work_order=wo)
    client = as_user(planner)
    assert _ids(client.get(f"/api/v1/stock-movements/?work_order={wo.pk}")) == {issue.pk}
    assert _ids(client.get("/api/v1/stock-movements/?kind=receipt")) == {receipt.pk}
    assert _ids(client.get(f"/api/v1/stock-movements/?stock={stock.pk}")) == {receipt.pk, issue.pk}
    assert client.post("/api/v1/stock-movements/", {}).status_code == 405


def test_meters_are_written_by_planners(as_user, planner, technician, site_a):
    asset = AssetFactory(site=site_a)
    body = {"asset": asset.pk, "code": "hours", "name": "Running hours", "unit": "h"}
    assert as_user(technician).post("/api/v1/meters/", body, format="json").status_code == 403
    created = as_user(planner).post("/api/v1/meters/", body, format="json")
    assert created.status_code == 201, created.data
    again = as_user(planner).post("/api/v1/meters/", body, format="json")
    assert again.status_code == 400
    assert _ids(as_user(technician).get(f"/api/v1/meters/?asset={asset.pk}")) == {
        created.data["id"]
    }
    assert Stock.objects.count() == 0
