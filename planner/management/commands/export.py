"""`manage.py export`: django-import-export's command, through the neutralising resources.

A model label exports with a `SpreadsheetResource` made for the model; a resource class must
derive from it, so no export path writes formula-like text as a formula.
"""

from django.apps import apps
from django.core.management.base import CommandError
from django.utils.module_loading import import_string
from import_export.command_utils import get_format_class
from import_export.management.commands import export
from import_export.resources import modelresource_factory

from cmms.spreadsheets import SpreadsheetResource


def spreadsheet_resource_class(name: str) -> type[SpreadsheetResource]:
    """The resource named (dotted path) or made for the model named (`app_label.Model`)."""
    try:
        resource_class = import_string(name)
    except ImportError:
        try:
            return modelresource_factory(apps.get_model(name), resource_class=SpreadsheetResource)
        except (LookupError, ValueError):
            raise CommandError(f"Cannot import {name!r} as a resource class or model.") from None
    if not (isinstance(resource_class, type) and issubclass(resource_class, SpreadsheetResource)):
        raise CommandError(f"{name} is not a SpreadsheetResource (cmms.spreadsheets).")
    return resource_class


class Command(export.Command):
    def handle(self, *args, **options):
        resource = spreadsheet_resource_class(options["resource"])()
        file_format = get_format_class(options["format"], None, options.get("encoding"))
        data = file_format.export_data(resource.export())
        if file_format.is_binary() and self.stdout.isatty():
            raise CommandError("This is a binary format: redirect the output to a file.")
        if not file_format.is_binary():
            data = data.encode(options.get("encoding") or "utf-8")
        self.stdout.buffer.write(data)
