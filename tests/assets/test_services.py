"""Writes to sites, customers, parts, storerooms, stock rows and meters go through services,
which hold the rules (what is fixed once created); the API and the admin answer with them."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from assets import services
from assets.models import Meter, Stock
from tests.factories import (
    AssetFactory,
    CustomerFactory,
    PartFactory,
    SiteFactory,
    StockFactory,
    StoreroomFactory,
    SuperuserFactory,
)

pytestmark = pytest.mark.django_db


def test_customers_sites_and_parts_are_created_and_changed_through_services():
    customer = services.customer_create(name="Acme Foods")
    site = services.site_create(customer=customer, code="hamburg", name="Hamburg plant")
    part = services.part_create(sku="BRG-6205", name="Bearing 6205")

    services.customer_update(customer=customer, name="Acme Foods GmbH")
    services.site_update(site=site, timezone="Europe/Berlin")
    services.part_update(part=part, unit_cost=Decimal("7.20"))

    site.refresh_from_db()
    part.refresh_from_db()
    assert (site.code, site.timezone, site.customer.name) == (
        "hamburg",
        "Europe/Berlin",
        "Acme Foods GmbH",
    )
    assert (part.unit, part.unit_cost) == ("pcs", Decimal("7.20"))


def test_a_service_validates_as_the_model_does():
    with pytest.raises(ValidationError) as error:
        services.site_create(customer=CustomerFactory(), code="x", name="X", timezone="Mars/Base")
    assert "timezone" in error.value.message_dict


def test_a_storeroom_stays_at_its_site():
    storeroom = StoreroomFactory()
    with pytest.raises(ValidationError) as error:
        services.storeroom_update(storeroom=storeroom, site=SiteFactory(), name="Moved")
    assert error.value.message_dict == {"site": [services.FIXED_SITE]}

    services.storeroom_update(storeroom=storeroom, site=storeroom.site, name="Main store 2")
    storeroom.refresh_from_db()
    assert storeroom.name == "Main store 2"


def test_an_asset_stays_at_its_site():
    asset = AssetFactory()
    with pytest.raises(ValidationError) as error:
        services.asset_update(asset=asset, site=SiteFactory())
    assert error.value.message_dict == {"site": [services.FIXED_SITE]}


def test_a_stock_row_keeps_its_part_and_storeroom():
    stock = StockFactory()
    with pytest.raises(ValidationError) as error:
        services.stock_update(stock=stock, part=PartFactory(), storeroom=StoreroomFactory())
    assert error.value.message_dict == {
        "part": [services.FIXED_STOCK["part"]],
        "storeroom": [services.FIXED_STOCK["storeroom"]],
    }


def test_a_new_stock_row_is_empty_and_a_change_leaves_its_quantities_alone():
    storeroom = StoreroomFactory()
    stock = services.stock_create(part=PartFactory(), storeroom=storeroom, bin="A-1")
    assert (stock.on_hand, stock.reserved) == (Decimal("0"), Decimal("0"))

    stale = Stock.objects.get(pk=stock.pk)
    services.stock_receive(stock=stock, quantity=5)
    services.stock_update(stock=stale, reorder_point=Decimal("2"))

    stock.refresh_from_db()
    assert (stock.on_hand, stock.reorder_point, stock.bin) == (Decimal("5"), Decimal("2"), "A-1")


def test_meters_are_created_and_changed_through_services():
    meter = services.meter_create(asset=AssetFactory(), code="hours", name="Hours", unit="h")
    services.meter_update(meter=meter, name="Running hours")
    assert Meter.objects.get(pk=meter.pk).name == "Running hours"


def test_the_api_answers_a_storeroom_move_with_the_services_message(api):
    storeroom = StoreroomFactory()
    api.force_authenticate(SuperuserFactory())
    response = api.patch(
        f"/api/v1/storerooms/{storeroom.pk}/", {"site": SiteFactory().pk}, format="json"
    )
    assert response.status_code == 400
    assert response.data == {"site": [services.FIXED_SITE]}


def test_a_meter_added_in_the_asset_admin_goes_through_the_service(logged_in, monkeypatch):
    asset = AssetFactory()
    created = []
    monkeypatch.setattr(
        services, "meter_create", lambda **kw: created.append(kw) or Meter.objects.create(**kw)
    )
    from assets.admin import AssetAdmin

    monkeypatch.setitem(
        AssetAdmin.inline_services,
        Meter,
        (services.meter_create, services.meter_update, "meter", "asset"),
    )
    client = logged_in(SuperuserFactory())
    page = client.get(f"/admin/assets/asset/{asset.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    data |= {
        "meters-TOTAL_FORMS": "1",
        "meters-INITIAL_FORMS": "0",
        "meters-0-code": "hours",
        "meters-0-name": "Running hours",
        "meters-0-unit": "h",
        "meters-0-asset": str(asset.pk),
        "isolation_points-TOTAL_FORMS": "0",  # the page's other inline, left empty
        "isolation_points-INITIAL_FORMS": "0",
    }
    response = client.post(f"/admin/assets/asset/{asset.pk}/change/", data)

    assert response.status_code == 302, response.context["errors"] if response.context else ""
    assert [(kw["asset"], kw["code"]) for kw in created] == [(asset, "hours")]
