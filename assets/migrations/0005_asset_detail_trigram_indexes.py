from django.db import migrations

from cmms.indexes import AddIndexOnPostgreSQL, trigram_index


class Migration(migrations.Migration):
    """The asset list's search box also finds manufacturer, model and serial number, from
    trigram indexes (PostgreSQL; nothing on SQLite)."""

    atomic = False  # the indexes are built concurrently
    dependencies = [("assets", "0004_search_trigram_indexes")]

    operations = [
        AddIndexOnPostgreSQL(
            model_name="asset", index=trigram_index(field, name=f"asset_{field}_trgm")
        )
        for field in ("manufacturer", "model", "serial_number")
    ]
