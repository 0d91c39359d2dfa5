from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

from cmms.indexes import AddIndexOnPostgreSQL, trigram_index


class Migration(migrations.Migration):
    """Asset tags and names, part SKUs and names searched from trigram indexes (PostgreSQL;
    nothing on SQLite)."""

    atomic = False  # the indexes are built concurrently
    dependencies = [("assets", "0003_asset_list_order_index")]

    operations = [
        TrigramExtension(),  # CREATE EXTENSION IF NOT EXISTS pg_trgm; nothing off PostgreSQL
        AddIndexOnPostgreSQL(model_name="asset", index=trigram_index("tag", name="asset_tag_trgm")),
        AddIndexOnPostgreSQL(
            model_name="asset", index=trigram_index("name", name="asset_name_trgm")
        ),
        AddIndexOnPostgreSQL(model_name="part", index=trigram_index("sku", name="part_sku_trgm")),
        AddIndexOnPostgreSQL(model_name="part", index=trigram_index("name", name="part_name_trgm")),
    ]
