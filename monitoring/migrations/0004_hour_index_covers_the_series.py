"""The hourly aggregates are read through their unique (asset, name, hour) index alone.

The asset's own index goes (the unique index serves every read by asset, in the series' order,
so no sort either), and on PostgreSQL the unique index carries what a series reads (INCLUDE):
with aggregates rewritten every ten minutes, one series' hours spread over many pages.
"""

import django.db.models.deletion
from django.db import migrations, models

FORWARD = """
ALTER TABLE monitoring_measurementhour DROP CONSTRAINT measurement_hour_unique;
ALTER TABLE monitoring_measurementhour ADD CONSTRAINT measurement_hour_unique
    UNIQUE (asset_id, name, hour) INCLUDE (unit, count, min, max, sum);
"""
BACKWARD = """
ALTER TABLE monitoring_measurementhour DROP CONSTRAINT measurement_hour_unique;
ALTER TABLE monitoring_measurementhour ADD CONSTRAINT measurement_hour_unique
    UNIQUE (asset_id, name, hour);
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [
        ("assets", "0010_isolation_points"),
        ("monitoring", "0003_measurement_key_covers_value"),
    ]

    operations = [
        migrations.AlterField(
            model_name="measurementhour",
            name="asset",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="assets.asset",
            ),
        ),
        migrations.RunPython(forward, backward, elidable=False),
    ]
