"""CSV/XLSX import of assets and parts: a preview with row errors first, then the services save."""

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from assets.models import Asset, Part
from tests.factories import EquipmentClassFactory, PartFactory, SuperuserFactory
from tests.forms import form_data
from tests.world import Plant

pytestmark = pytest.mark.django_db

HEADER = "site,tag,name,parent,level,equipment_class,criticality,state\n"


def upload(client, model: str, name: str, content: bytes, fmt: str = "csv"):
    url = reverse(f"admin:assets_{model}_import")
    page = client.get(url)
    formats = {
        label.lower(): value for value, label in page.context["form"].fields["format"].choices
    }
    return client.post(
        url,
        {"import_file": SimpleUploadedFile(name, content), "format": formats[fmt], "resource": 0},
    )


def confirm(client, model: str, preview):
    data = form_data(preview, None)
    confirm_data = {
        k: data[k]
        for k in ("import_file_name", "original_file_name", "format", "resource")
        if k in data
    }
    return client.post(reverse(f"admin:assets_{model}_process_import"), confirm_data, follow=True)


def test_a_file_with_bad_rows_shows_each_rows_error_and_saves_nothing(planner, plant):
    EquipmentClassFactory(code="pump")
    other = Plant("oth")
    csv = (
        HEADER
        + f"{plant.site.code},P-NEW,New pump,{plant.line.tag},equipment,pump,A,operating\n"
        + f"{plant.site.code},P-BAD,Bad parent,NOPE,equipment,pump,A,operating\n"
        + f"{other.site.code},P-X,Not my site,,equipment,pump,A,operating\n"
        + f"{plant.site.code},P-CLS,Bad class,,equipment,turbine,A,operating\n"
        + f"{plant.site.code},P-LVL,Bad level,,planet,pump,A,operating\n"
    ).encode()
    before = Asset.objects.count()

    response = upload(planner, "asset", "assets.csv", csv)

    assert response.status_code == 200
    result = response.context["result"]
    assert result.has_validation_errors()
    errors = {row.number: row.field_specific_errors for row in result.invalid_rows}
    assert set(errors) == {2, 3, 4, 5}
    assert "no asset 'NOPE'" in str(errors[2]["parent"])
    assert "no site" in str(errors[3]["site"]) and "among your sites" in str(errors[3]["site"])
    assert "no equipment class 'turbine'" in str(errors[4]["equipment_class"])
    assert "level" in errors[5]
    assert Asset.objects.count() == before
    assert "import_file_name" not in response.content.decode()  # nothing to confirm


def test_a_clean_file_previews_then_imports_through_the_services(planner, plant):
    EquipmentClassFactory(code="pump")
    csv = (
        HEADER
        + f"{plant.site.code},L-NEW,New line,{plant.area.tag},line,,B,operating\n"
        + f"{plant.site.code},P-NEW,New pump,L-NEW,equipment,pump,A,operating\n"
        + f"{plant.site.code},{plant.pump.tag},Renamed pump,{plant.line.tag},equipment,pump,A,"
        + "degraded\n"
    ).encode()
    preview = upload(planner, "asset", "assets.csv", csv)
    assert not preview.context["result"].has_validation_errors()
    assert not Asset.objects.filter(tag="P-NEW").exists()  # the preview was a dry run

    response = confirm(planner, "asset", preview)

    assert response.status_code == 200
    line = Asset.objects.get(site=plant.site, tag="L-NEW")
    pump = Asset.objects.get(site=plant.site, tag="P-NEW")
    assert line.path == f"{plant.area.path}{line.pk}/"
    assert (pump.parent, pump.path, pump.depth) == (line, f"{line.path}{pump.pk}/", 2)
    assert pump.equipment_class.code == "pump"
    plant.pump.refresh_from_db()
    assert (plant.pump.name, plant.pump.state) == ("Renamed pump", "degraded")


def test_an_asset_of_another_site_cannot_be_updated_by_import(planner, plant):
    other = Plant("oth")
    csv = (HEADER + f"{other.site.code},{other.pump.tag},Hijacked,,equipment,,A,down\n").encode()
    preview = upload(planner, "asset", "assets.csv", csv)
    assert preview.context["result"].has_validation_errors()
    other.pump.refresh_from_db()
    assert other.pump.name != "Hijacked"


@pytest.fixture
def superuser(logged_in):
    """Parts are a global catalogue: superusers import them (planners read and export)."""
    return logged_in(SuperuserFactory())


def test_planners_cannot_import_the_global_parts_catalogue(planner):
    assert planner.get(reverse("admin:assets_part_import")).status_code == 403
    assert planner.get(reverse("admin:assets_part_changelist")).status_code == 200


def test_parts_import_from_xlsx_with_a_bad_cost_reported_on_its_row(superuser):
    PartFactory(sku="BRG-1", name="Old name")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["sku", "name", "unit", "unit_cost"])
    sheet.append(["BRG-1", "Ball bearing 6205", "pcs", 8.4])
    sheet.append(["SEAL-9", "Mechanical seal", "pcs", "cheap"])
    buffer = io.BytesIO()
    book.save(buffer)

    preview = upload(superuser, "part", "parts.xlsx", buffer.getvalue(), fmt="xlsx")

    result = preview.context["result"]
    [bad] = result.invalid_rows
    assert bad.number == 2
    assert "'cheap' is not a number" in str(bad.field_specific_errors["unit_cost"])
    assert Part.objects.get(sku="BRG-1").name == "Old name"
    assert not Part.objects.filter(sku="SEAL-9").exists()


def test_parts_import_of_a_clean_csv_creates_and_updates(superuser):
    PartFactory(sku="BRG-1", name="Old name")
    csv = (
        b"sku,name,unit,unit_cost\n"
        b"BRG-1,Ball bearing 6205,pcs,8.40\n"
        b"SEAL-9,Mechanical seal,pcs,185\n"
    )
    preview = upload(superuser, "part", "parts.csv", csv)
    assert not preview.context["result"].has_validation_errors()
    confirm(superuser, "part", preview)
    assert Part.objects.get(sku="BRG-1").name == "Ball bearing 6205"
    assert str(Part.objects.get(sku="SEAL-9").unit_cost) == "185.00"


def test_technicians_cannot_reach_the_import_page(client, plant):
    plant.technician.is_staff = True
    plant.technician.save()
    client.force_login(plant.technician)
    response = client.get(reverse("admin:assets_asset_import"))
    assert response.status_code == 302
