"""Admin imports: the stored file is the session's own, sizes are limited, errors show no traceback.

Reproduced before: `process_import` with `import_file_name=../../tmp/<file>` imported a file of
the server's temp folder and deleted it; a 2,000-row preview took 20 s; a 25 KB XLSX expanded to
a 20 MB cell echoed in the error page; import errors showed Python tracebacks.
"""

import io
import tempfile
from pathlib import Path

import openpyxl
import pytest
from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse
from import_export.admin import ImportMixin

from assets import resources
from assets.models import Asset, Part
from cmms.spreadsheets import (
    ImportFileStorage,
    LimitedCSV,
    LimitedXLSX,
    SpreadsheetImportExportMixin,
)
from tests.factories import SuperuserFactory
from tests.planner.test_import import HEADER, confirm, upload

pytestmark = pytest.mark.django_db

UNEXPECTED = "An unexpected error stopped the import here"


def importing_admins():
    return [ma for ma in admin.site._registry.values() if isinstance(ma, ImportMixin)]


def asset_rows(plant, count: int, name: str = "Pump") -> bytes:
    rows = "".join(
        f"{plant.site.code},N-{i},{name} {i},{plant.line.tag},equipment,,B,operating\n"
        for i in range(count)
    )
    return (HEADER + rows).encode()


def part_rows(plant, count: int, name: str = "Seal") -> bytes:
    return (
        "sku,name,unit,unit_cost\n" + "".join(f"N-{i},{name} {i},pcs,1\n" for i in range(count))
    ).encode()


# One clean file per importing model: (model name in URLs, model, rows(plant, count)).
IMPORTS = {"asset": (Asset, asset_rows), "part": (Part, part_rows)}


@pytest.fixture
def superuser():
    """Parts are a global catalogue: only superusers import them (issue 12 §3)."""
    client = Client()
    client.force_login(SuperuserFactory())
    return client


@pytest.fixture
def importer(planner, superuser):
    """The client that may import each model: the plant's planner its assets, a superuser parts."""
    return {"asset": planner, "part": superuser}


def test_every_admin_with_an_import_is_bound_to_the_session_and_limited():
    admins = importing_admins()
    assert {model_admin.model for model_admin in admins} == {model for model, _ in IMPORTS.values()}
    for model_admin in admins:
        assert isinstance(model_admin, SpreadsheetImportExportMixin), model_admin
        assert model_admin.get_import_formats() == [LimitedCSV, LimitedXLSX]
        assert model_admin.get_tmp_storage_class() is ImportFileStorage


@pytest.mark.parametrize("name", ["asset", "part"])
def test_a_confirmation_naming_a_server_file_imports_nothing_and_leaves_the_file(
    importer, plant, name
):
    planner = importer[name]
    model, rows = IMPORTS[name]
    victim = Path(tempfile.gettempdir()) / f"victim-{name}.csv"
    victim.write_bytes(rows(plant, 2))
    before = model.objects.count()
    try:
        for named in (f"../../../{victim}", victim.name, str(victim), "../" + victim.name):
            response = planner.post(
                reverse(f"admin:assets_{name}_process_import"),
                {"import_file_name": named, "original_file_name": "x.csv", "format": "0"},
            )
            assert response.status_code == 400
            assert "not waiting for confirmation in your session" in response.content.decode()
        assert victim.exists()
        assert model.objects.count() == before
    finally:
        victim.unlink(missing_ok=True)


def test_a_preview_can_be_confirmed_once_and_only_by_the_session_that_uploaded_it(planner, plant):
    preview = upload(planner, "asset", "assets.csv", asset_rows(plant, 2))
    elsewhere = Client()
    elsewhere.force_login(plant.planner)  # the same planner, another session
    tags = Asset.objects.filter(site=plant.site, tag__startswith="N-")

    stolen = confirm(elsewhere, "asset", preview)
    assert stolen.status_code == 400
    assert not tags.exists()

    assert confirm(planner, "asset", preview).status_code == 200
    assert set(tags.values_list("tag", flat=True)) == {"N-0", "N-1"}
    assert confirm(planner, "asset", preview).status_code == 400


def test_a_confirmation_for_another_models_import_is_refused(superuser, plant):
    preview = upload(superuser, "part", "parts.csv", part_rows(plant, 1))
    response = confirm(superuser, "asset", preview)
    assert response.status_code == 400
    assert not Part.objects.filter(sku="N-0").exists()


def import_form_errors(response) -> list[str]:
    assert response.status_code == 200
    assert "result" not in response.context or response.context["result"] is None
    return response.context["form"].errors["import_file"]


@pytest.mark.parametrize("name", ["asset", "part"])
def test_a_file_over_the_size_limit_is_refused_with_a_form_error(importer, plant, settings, name):
    planner = importer[name]
    settings.IMPORT_MAX_FILE_BYTES = 1024
    _, rows = IMPORTS[name]
    content = rows(plant, 60)
    assert len(content) > 1024

    response = upload(planner, name, "big.csv", content)

    [error] = import_form_errors(response)
    assert f"The file has {len(content):,} bytes; at most 1,024 can be imported" in error


@pytest.mark.parametrize("name", ["asset", "part"])
def test_a_file_with_more_rows_than_the_limit_is_refused_before_its_preview(
    importer, plant, settings, name
):
    planner = importer[name]
    settings.IMPORT_MAX_ROWS = 3
    _, rows = IMPORTS[name]

    response = upload(planner, name, "rows.csv", rows(plant, 4))

    [error] = import_form_errors(response)
    assert error.startswith("The file has 4 rows; at most 3 can be imported at once.")
    assert upload(planner, name, "rows.csv", rows(plant, 3)).context["result"] is not None


def test_a_workbook_that_unpacks_beyond_the_limit_is_refused_without_echoing_it(
    superuser, plant, settings
):
    settings.IMPORT_MAX_XLSX_UNCOMPRESSED_BYTES = 1_000_000
    book = openpyxl.Workbook()
    book.active.append(["sku", "name", "unit", "unit_cost"])
    for number in range(70):  # a cell holds at most 32,767 characters
        book.active.append([f"BOMB-{number}", "A" * 30_000, "pcs", 1])
    buffer = io.BytesIO()
    book.save(buffer)
    assert len(buffer.getvalue()) < 50_000

    response = upload(superuser, "part", "bomb.xlsx", buffer.getvalue(), fmt="xlsx")

    [error] = import_form_errors(response)
    assert "The workbook unpacks to" in error and "at most 1,000,000 are accepted" in error
    assert len(response.content) < 100_000


def test_a_cell_longer_than_the_limit_is_refused_naming_its_row_and_column(
    superuser, plant, settings
):
    settings.IMPORT_MAX_CELL_CHARS = 50
    content = b"sku,name,unit,unit_cost\nOK,Seal,pcs,1\nLONG," + b"x" * 51 + b",pcs,1\n"

    response = upload(superuser, "part", "long.csv", content)

    [error] = import_form_errors(response)
    assert error == "Row 2, column 'name': a cell of 51 characters; at most 50 are accepted."


def test_an_unexpected_error_before_the_rows_shows_no_traceback_or_path(
    planner, plant, settings, monkeypatch
):
    settings.DEBUG = False

    def broken(self, dataset, **kwargs):
        raise RuntimeError("open('/srv/cmms/secret/settings.py') failed")

    monkeypatch.setattr(resources.AssetResource, "before_import", broken)

    response = upload(planner, "asset", "assets.csv", asset_rows(plant, 1))

    page = response.content.decode()
    assert response.status_code == 200
    assert UNEXPECTED in page
    assert "/srv/cmms" not in page and "Traceback" not in page and ".py" not in page


def test_an_unexpected_error_on_a_row_shows_no_traceback_or_path(
    planner, plant, settings, monkeypatch
):
    settings.DEBUG = False

    def broken(**kwargs):
        raise RuntimeError("/srv/cmms/assets/services.py: boom")

    monkeypatch.setattr(resources.asset_services, "asset_create", broken)

    response = upload(planner, "asset", "assets.csv", asset_rows(plant, 1))

    page = response.content.decode()
    assert f"Line number: 1 - {UNEXPECTED}" in page
    assert "/srv/cmms" not in page and "Traceback" not in page


def test_a_file_is_kept_only_while_its_preview_waits_for_confirmation(
    superuser, plant, settings, tmp_path
):
    settings.IMPORT_TMP_DIR = tmp_path
    bad = b"sku,name,unit,unit_cost\nBAD,Seal,pcs,cheap\n"
    assert upload(superuser, "part", "bad.csv", bad).context["result"].has_validation_errors()
    assert list(tmp_path.iterdir()) == []

    preview = upload(superuser, "part", "parts.csv", part_rows(plant, 1))
    assert len(list(tmp_path.iterdir())) == 1

    confirm(superuser, "part", preview)
    assert list(tmp_path.iterdir()) == []


def test_a_confirmation_imports_in_the_format_and_resource_that_were_previewed(superuser, plant):
    preview = upload(superuser, "part", "parts.csv", part_rows(plant, 1))
    data = {
        "import_file_name": preview.context["confirm_form"].initial["import_file_name"],
        "original_file_name": "parts.csv",
        "format": "1",  # XLSX: the stored CSV would not read
        "resource": "7",  # no such resource
    }

    response = superuser.post(reverse("admin:assets_part_process_import"), data, follow=True)

    assert response.status_code == 200
    assert Part.objects.filter(sku="N-0").exists()


@pytest.mark.parametrize("mode", [0o777, 0o750, 0o701])
def test_a_waiting_folder_others_may_enter_is_refused(settings, tmp_path, mode):
    # In a shared temp folder another local user could have made it first.
    folder = tmp_path / "imports"
    folder.mkdir()
    folder.chmod(mode)
    settings.IMPORT_TMP_DIR = folder

    with pytest.raises(ImproperlyConfigured, match="mode 700"):
        ImportFileStorage.folder()


def test_the_waiting_folder_is_made_private(settings, tmp_path):
    settings.IMPORT_TMP_DIR = tmp_path / "new" / "imports"

    folder = ImportFileStorage.folder()

    assert folder.stat().st_mode & 0o777 == 0o700
