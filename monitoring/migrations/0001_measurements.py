"""The measurements' tables. On PostgreSQL the raw table is partitioned by month on `at`
(hand-written SQL: Django creates no partitioned tables); elsewhere it is a plain table."""

import django.db.models.deletion
from datetime import date

from django.db import migrations, models

from monitoring.partitions import partitions_ensure

PARTITIONED = """
CREATE TABLE monitoring_measurement (
    asset_id bigint NOT NULL REFERENCES assets_asset (id) DEFERRABLE INITIALLY DEFERRED,
    site_id bigint NOT NULL REFERENCES assets_site (id) DEFERRABLE INITIALLY DEFERRED,
    name varchar(100) NOT NULL,
    unit varchar(32) NOT NULL,
    value double precision NOT NULL,
    at timestamp with time zone NOT NULL,
    source varchar(10) NOT NULL,
    PRIMARY KEY (asset_id, name, at, source)
) PARTITION BY RANGE (at);
CREATE TABLE monitoring_measurement_default PARTITION OF monitoring_measurement DEFAULT;
CREATE INDEX monitoring_measurement_at_brin ON monitoring_measurement USING brin (at);
CREATE INDEX monitoring_measurement_site ON monitoring_measurement (site_id);
"""


def create_measurement_table(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.create_model(apps.get_model("monitoring", "Measurement"))
        return
    schema_editor.execute(PARTITIONED)
    partitions_ensure(schema_editor.connection, today=date.today(), months_ahead=1)


def drop_measurement_table(apps, schema_editor):
    schema_editor.delete_model(apps.get_model("monitoring", "Measurement"))


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('assets', '0010_isolation_points'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Measurement',
                    fields=[
                        ('pk', models.CompositePrimaryKey('asset_id', 'name', 'at', 'source', blank=True, editable=False, primary_key=True, serialize=False)),
                        ('name', models.CharField(max_length=100)),
                        ('unit', models.CharField(blank=True, max_length=32)),
                        ('value', models.FloatField()),
                        ('at', models.DateTimeField()),
                        ('source', models.CharField(choices=[('alert', "A gateway alert's value"), ('reading', 'A gateway meter reading'), ('round', "An inspection round's reading"), ('mqtt', 'A plain MQTT message'), ('sparkplug', 'A Sparkplug B metric')], max_length=10)),
                        ('asset', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='assets.asset')),
                        ('site', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='assets.site')),
                    ],
                ),
            ],
        ),
        migrations.RunPython(create_measurement_table, drop_measurement_table),
        migrations.CreateModel(
            name='MeasurementHour',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100)),
                ('hour', models.DateTimeField()),
                ('unit', models.CharField(blank=True, max_length=32)),
                ('count', models.PositiveIntegerField()),
                ('min', models.FloatField()),
                ('max', models.FloatField()),
                ('sum', models.FloatField()),
                ('last_value', models.FloatField()),
                ('last_at', models.DateTimeField()),
                ('asset', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='assets.asset')),
                ('site', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='assets.site')),
            ],
            options={
                'indexes': [models.Index(fields=['hour'], name='measurement_hour_hour')],
                'constraints': [models.UniqueConstraint(fields=('asset', 'name', 'hour'), name='measurement_hour_unique')],
            },
        ),
    ]
