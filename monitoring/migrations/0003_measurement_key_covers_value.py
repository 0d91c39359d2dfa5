"""The raw measurements' primary key carries the value and the unit (PostgreSQL's INCLUDE), so
a series is read from the index alone.

Values arrive in time order across every series, so one series' rows lie one to a table page:
a 90-day series of 8,640 values read 8,700 pages through the key and the table; from the key
alone it reads about 100 (an index-only scan, once autovacuum has marked the pages visible,
which it does for insert-only tables since PostgreSQL 13). BENCHMARKS.md has the figures.
"""

from django.db import migrations

FORWARD = """
ALTER TABLE monitoring_measurement DROP CONSTRAINT monitoring_measurement_pkey;
ALTER TABLE monitoring_measurement ADD CONSTRAINT monitoring_measurement_pkey
    PRIMARY KEY (asset_id, name, at, source) INCLUDE (value, unit);
"""
BACKWARD = """
ALTER TABLE monitoring_measurement DROP CONSTRAINT monitoring_measurement_pkey;
ALTER TABLE monitoring_measurement ADD CONSTRAINT monitoring_measurement_pkey
    PRIMARY KEY (asset_id, name, at, source);
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0002_monitored_measurements_and_predictions")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
