from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

from cmms.indexes import AddIndexOnPostgreSQL, trigram_index


class Migration(migrations.Migration):
    """Work order titles and descriptions searched from trigram indexes (PostgreSQL; nothing
    on SQLite)."""

    atomic = False  # the indexes are built concurrently
    dependencies = [("workorders", "0009_journal_order_indexes")]

    operations = [
        TrigramExtension(),  # CREATE EXTENSION IF NOT EXISTS pg_trgm; nothing off PostgreSQL
        AddIndexOnPostgreSQL(
            model_name="workorder", index=trigram_index("title", name="work_order_title_trgm")
        ),
        AddIndexOnPostgreSQL(
            model_name="workorder",
            index=trigram_index("description", name="work_order_description_trgm"),
        ),
    ]
