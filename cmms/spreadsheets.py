"""CSV and XLSX import and export (django-import-export), the same for every admin that has them.

Exports: a text cell that a spreadsheet would read as a formula (it begins with `=`, `+`, `-`,
`@`, a tab or a carriage return; OWASP "CSV injection") is written with a leading single quote,
so it is shown as the text it is; numbers and dates stay typed. Every export resource derives
from `SpreadsheetResource`, every exporting admin from `SpreadsheetExportMixin`.

Imports: the uploaded file waits for confirmation in a private folder under a name the server
chose, and the client only ever holds an opaque token that this session issued
(`import_file_issue`/`import_file_claim`). Size, rows, uncompressed XLSX size and cell length
are limited (settings `IMPORT_MAX_*`), with a form error; errors never show a traceback.
"""

import logging
import os
import re
import secrets
import stat
import time as clock
import zipfile
from datetime import date, time, timedelta
from decimal import Decimal, InvalidOperation
from io import BytesIO
from pathlib import Path
from uuid import uuid4

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import (
    ImproperlyConfigured,
    ObjectDoesNotExist,
    PermissionDenied,
    ValidationError,
)
from django.template.response import TemplateResponse
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST
from import_export import resources
from import_export.admin import ExportMixin, ImportExportMixin
from import_export.formats.base_formats import CSV, XLSX
from import_export.forms import ImportForm
from import_export.tmp_storages import BaseStorage
from import_export.widgets import DecimalWidget, ForeignKeyWidget

logger = logging.getLogger(__name__)

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
TYPED_VALUES = (int, float, Decimal, date, time, timedelta)  # bool is an int; datetime a date


def neutralise_formula(value):
    """The value as a spreadsheet shows it as text: formula starters get a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class SpreadsheetResource(resources.ModelResource):
    """Base of every export resource: text that starts like a formula is neutralised.

    A value is left alone when the model holds a number or a date there (a negative number stays
    the number -3 in XLSX and `-3` in CSV); everything else rendered as text is user text.
    """

    def __init__(self, user=None, **kwargs):
        super().__init__(**kwargs)
        self.user = user

    def export_field(self, field, instance, **kwargs):
        rendered = super().export_field(field, instance, **kwargs)
        if not (isinstance(rendered, str) and rendered.startswith(FORMULA_PREFIXES)):
            return rendered
        if field.attribute and isinstance(field.get_value(instance), TYPED_VALUES):
            return rendered
        return neutralise_formula(rendered)

    def import_data(self, dataset, **kwargs):
        """Logs every error with its traceback; the page shows only what the planner can fix."""
        result = super().import_data(dataset, **kwargs)
        for error in result.base_errors:
            logger.error("import of %s failed:\n%s", self._meta.model.__name__, error.traceback)
        for line, errors in result.row_errors():
            for error in errors:
                logger.warning("import row %s failed:\n%s", line, error.traceback)
        return result


# ---------------------------------------------------------------- import widgets


class LookupWidget(ForeignKeyWidget):
    """A foreign key by a code, limited to what the importing user may see, with a clear error."""

    noun = "row"

    def scoped(self, row, user):
        manager = self.model.objects
        return (
            manager.for_user(user)
            if user is not None and hasattr(manager, "for_user")
            else manager.all()
        )

    def get_queryset(self, value, row, *args, **kwargs):
        return self.scoped(row, kwargs.get("user"))

    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(value, row, **kwargs)
        except ObjectDoesNotExist:
            raise ValueError(f"no {self.noun} {value!r}{self.where(row)}") from None

    def where(self, row) -> str:
        return ""


class NumberWidget(DecimalWidget):
    """A decimal; text that is not a number is that row's error on that field."""

    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(value, row, **kwargs)
        except (InvalidOperation, ValueError):
            raise ValueError(f"{value!r} is not a number") from None


# ---------------------------------------------------------------- import limits


class ImportLimitError(ValueError):
    """A file beyond the import limits; its message is shown to the planner as is."""


def _check_file_size(in_stream) -> None:
    size = len(in_stream.encode() if isinstance(in_stream, str) else in_stream)
    limit = settings.IMPORT_MAX_FILE_BYTES
    if size > limit:
        raise ImportLimitError(
            f"The file has {size:,} bytes; at most {limit:,} can be imported at once. "
            "Split it into smaller files."
        )


def _check_dataset(dataset) -> None:
    limit = settings.IMPORT_MAX_ROWS
    if len(dataset) > limit:
        raise ImportLimitError(
            f"The file has {len(dataset):,} rows; at most {limit:,} can be imported at once. "
            "Split it into smaller files."
        )
    longest = settings.IMPORT_MAX_CELL_CHARS
    headers = [str(header)[:40] for header in dataset.headers or []]
    for number, row in enumerate([dataset.headers or [], *dataset], start=0):
        for column, value in enumerate(row):
            if isinstance(value, str) and len(value) > longest:
                where = "the header" if number == 0 else f"row {number}"
                name = headers[column] if column < len(headers) else f"#{column + 1}"
                raise ImportLimitError(
                    f"{where.capitalize()}, column {name!r}: a cell of {len(value):,} "
                    f"characters; at most {longest:,} are accepted."
                )


def _check_xlsx_expansion(in_stream: bytes) -> None:
    """Refuses a workbook whose parts unpack beyond the limit, before anything is unpacked.

    zipfile never yields more than a member's declared size (a lie fails its CRC check), so
    the declared sizes bound what openpyxl will read.
    """
    limit = settings.IMPORT_MAX_XLSX_UNCOMPRESSED_BYTES
    try:
        members = zipfile.ZipFile(BytesIO(in_stream)).infolist()
    except zipfile.BadZipFile:
        raise ImportLimitError("The file is not an XLSX workbook.") from None
    unpacked = sum(member.file_size for member in members)
    if unpacked > limit:
        raise ImportLimitError(
            f"The workbook unpacks to {unpacked:,} bytes; at most {limit:,} are accepted. "
            "Save it as CSV or split it into smaller files."
        )


class LimitedCSV(CSV):
    def create_dataset(self, in_stream):
        _check_file_size(in_stream)
        dataset = super().create_dataset(in_stream)
        _check_dataset(dataset)
        return dataset


class LimitedXLSX(XLSX):
    def create_dataset(self, in_stream):
        _check_file_size(in_stream)
        _check_xlsx_expansion(in_stream)
        dataset = super().create_dataset(in_stream)
        _check_dataset(dataset)
        return dataset


class LimitedImportForm(ImportForm):
    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        limit = settings.IMPORT_MAX_FILE_BYTES
        if upload.size > limit:
            raise ValidationError(
                f"The file has {upload.size:,} bytes; at most {limit:,} can be imported at once. "
                "Split it into smaller files."
            )
        return upload


# ---------------------------------------------------------------- the file awaiting confirmation

STORED_NAME = re.compile(r"[0-9a-f]{32}")
SESSION_KEY = "spreadsheet_imports"
PENDING_PER_SESSION = 5
STALE_AFTER_SECONDS = 24 * 3600


class ImportFileStorage(BaseStorage):
    """An uploaded file kept between preview and confirmation, in a private folder.

    Its name is a random hex string the server chose; any other name is refused, so no path
    (relative or not) can reach another file.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if self.name is not None and not STORED_NAME.fullmatch(self.name):
            raise ValueError("not a stored import file")

    @staticmethod
    def folder() -> Path:
        """The private folder, refused unless this process owns it and nobody else may enter:
        in a shared temp folder another local user could have made it first, to read uploads
        or swap a file between preview and confirmation."""
        folder = Path(settings.IMPORT_TMP_DIR)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        status = folder.lstat()
        if (
            not stat.S_ISDIR(status.st_mode)
            or status.st_uid != os.getuid()
            or stat.S_IMODE(status.st_mode) & 0o077
        ):
            raise ImproperlyConfigured(
                f"IMPORT_TMP_DIR {folder} must be a folder of this user that nobody else may "
                "enter (mode 700)."
            )
        return folder

    def path(self) -> Path:
        return self.folder() / self.name

    def save(self, data):
        self._remove_stale()
        self.name = uuid4().hex
        if isinstance(data, bytes):
            self.path().write_bytes(data)
        else:
            self.path().write_text(data, encoding=self.encoding)

    def read(self):
        encoding = None if "b" in self.read_mode else self.encoding
        with open(self.path(), self.read_mode, encoding=encoding) as f:
            return f.read()

    def remove(self):
        self.path().unlink(missing_ok=True)

    def _remove_stale(self):
        """Files of previews never confirmed go after a day."""
        cutoff = clock.time() - STALE_AFTER_SECONDS
        for entry in os.scandir(self.folder()):
            if STORED_NAME.fullmatch(entry.name) and entry.stat().st_mtime < cutoff:
                Path(entry.path).unlink(missing_ok=True)


def import_file_issue(
    request, *, name: str, model_label: str, file_format: str, resource: str
) -> str:
    """An opaque token for a stored import file, valid in this session for this model only."""
    token = secrets.token_urlsafe(24)
    pending = request.session.get(SESSION_KEY, {})
    pending[token] = {
        "name": name,
        "model": model_label,
        "format": file_format,
        "resource": resource,
    }
    while len(pending) > PENDING_PER_SESSION:
        oldest = pending.pop(next(iter(pending)))
        ImportFileStorage(name=oldest["name"]).remove()
    request.session[SESSION_KEY] = pending
    return token


def import_file_claim(request, *, token: str, model_label: str) -> dict | None:
    """The stored file's name and format for a token this session was issued (once), or None."""
    pending = request.session.get(SESSION_KEY, {})
    entry = pending.get(token)
    if entry is None or entry["model"] != model_label:
        return None
    del pending[token]
    request.session[SESSION_KEY] = pending
    return entry


# ---------------------------------------------------------------- admin mixins

IMPORT_NOT_PENDING = (
    "This import is not waiting for confirmation in your session (it was already imported, "
    "replaced by a newer upload, or started elsewhere). Upload the file again."
)


class SpreadsheetExportMixin(ExportMixin):
    """CSV/XLSX export of the filtered list through a `SpreadsheetResource`."""

    export_formats = [CSV, XLSX]

    def get_export_resource_kwargs(self, request, **kwargs):
        return {**super().get_export_resource_kwargs(request, **kwargs), "user": request.user}

    def has_export_permission(self, request):
        return self.has_view_permission(request)


class SpreadsheetImportExportMixin(SpreadsheetExportMixin, ImportExportMixin):
    """Export, and import with a preview (row errors before anything is saved) within limits.

    The resource gets the importing user, so every lookup is limited to their sites.
    """

    import_formats = [LimitedCSV, LimitedXLSX]
    import_form_class = LimitedImportForm
    tmp_storage_class = ImportFileStorage
    import_error_display = ("message",)

    def get_import_resource_kwargs(self, request, **kwargs):
        return {**super().get_import_resource_kwargs(request, **kwargs), "user": request.user}

    def has_import_permission(self, request):
        return self.has_add_permission(request) and self.has_change_permission(request)

    def import_action(self, request, **kwargs):
        """The preview; a file that cannot be confirmed (errors, limits) is not kept."""
        response = super().import_action(request, **kwargs)
        context = getattr(response, "context_data", None) or {}
        upload = getattr(context.get("form"), "cleaned_data", {}).get("import_file")
        stored = getattr(upload, "tmp_storage_name", None)
        if stored and not context.get("confirm_form"):
            self.get_tmp_storage_class()(name=stored).remove()
        return response

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial["import_file_name"] = import_file_issue(
                request,
                name=initial["import_file_name"],
                model_label=self.opts.label,
                file_format=str(initial["format"]),
                resource=str(initial["resource"] or 0),
            )
        return initial

    def add_data_read_fail_error_to_form(self, form, e):
        if isinstance(e, ImportLimitError):
            form.add_error("import_file", str(e))
        else:
            super().add_data_read_fail_error_to_form(form, e)

    @method_decorator(require_POST)
    def process_import(self, request, **kwargs):
        """Imports the file this session previewed, named by its token, in the format previewed."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = self.create_confirm_form(request)
        pending = form.is_valid() and import_file_claim(
            request, token=form.cleaned_data["import_file_name"], model_label=self.opts.label
        )
        if not pending:
            return self.import_page(request, status=400, error=IMPORT_NOT_PENDING)
        # What was previewed is imported: the format and resource of the preview, not the post's.
        form.cleaned_data.update(format=pending["format"], resource=pending["resource"])
        input_format = self.get_import_formats()[int(pending["format"])](
            encoding=self.from_encoding
        )
        name = pending["name"]
        storage = self.get_tmp_storage_class()(
            name=name,
            encoding=None if input_format.is_binary() else self.from_encoding,
            read_mode=input_format.get_read_mode(),
        )
        try:
            dataset = input_format.create_dataset(storage.read())
        except (OSError, ValueError):
            logger.exception("stored import file %s could not be read", name)
            return self.import_page(request, status=400, error=IMPORT_NOT_PENDING)
        finally:
            storage.remove()
        result = self.process_dataset(dataset, form, request, **kwargs)
        if result.has_errors() or result.has_validation_errors():
            return self.import_page(request, status=200, result=result)
        return self.process_result(result, request)

    def import_page(self, request, *, status, error=None, result=None):
        """The upload page afresh, with an error message or an import's row errors."""
        if error:
            messages.error(request, error)
        form = self.get_import_form_class(request)(
            self.get_import_formats(),
            self.get_import_resource_classes(request),
            initial=self.get_import_form_initial(request),
        )
        context = {
            **self.admin_site.each_context(request),
            "title": "Import",
            "form": form,
            "opts": self.opts,
            "media": self.media + form.media,
            "result": result,
            "import_error_display": self.import_error_display,
        }
        return TemplateResponse(request, [self.import_template_name], context, status=status)
