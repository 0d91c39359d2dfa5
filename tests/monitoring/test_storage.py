"""Stored measurements: partitions, recording a batch, hourly aggregation and retention."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cmms.celery import app
from monitoring import tasks
from monitoring.choices import MeasurementSource
from monitoring.models import Measurement, MeasurementHour
from monitoring.services import (
    MeasurementIn,
    measurement_partitions_ensure,
    measurements_aggregate,
    measurements_expire,
    measurements_record,
)

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)


def value(asset, at, v, *, name="bearing_temperature", source=MeasurementSource.ALERT):
    return MeasurementIn(asset.pk, name, "°C", v, at, source)


def partitions() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'monitoring_measurement'"
        )
        return {name for (name,) in cursor.fetchall()}


def test_a_batch_is_stored_in_one_statement_with_the_assets_site(pump):
    batch = [value(pump, T0 + timedelta(minutes=i), 60.0 + i) for i in range(5)]
    with CaptureQueriesContext(connection) as queries:
        assert measurements_record(measurements=batch) == 5
    assert len(queries) == 1
    rows = Measurement.objects.order_by("at").values_list("site_id", "name", "unit", "value")
    assert list(rows) == [(pump.site_id, "bearing_temperature", "°C", 60.0 + i) for i in range(5)]


def test_a_redelivered_batch_changes_nothing(pump):
    batch = [value(pump, T0, 61.0)]
    measurements_record(measurements=batch)
    assert measurements_record(measurements=batch) == 0
    assert Measurement.objects.count() == 1


def test_an_empty_batch_runs_no_query(pump):
    with CaptureQueriesContext(connection) as queries:
        assert measurements_record(measurements=[]) == 0
    assert len(queries) == 0


@pytest.mark.postgresql(reason="partitions are PostgreSQL's")
def test_the_table_is_partitioned_by_month_and_partitions_are_made_ahead(pump):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT partstrat FROM pg_partitioned_table t JOIN pg_class c ON c.oid = t.partrelid "
            "WHERE c.relname = 'monitoring_measurement'"
        )
        assert cursor.fetchone() == ("r",)
    with time_machine.travel(datetime(2031, 11, 20, tzinfo=UTC), tick=False):
        created = measurement_partitions_ensure()
        assert created == [
            "monitoring_measurement_p203111",
            "monitoring_measurement_p203112",
            "monitoring_measurement_p203201",
        ]
        assert measurement_partitions_ensure() == []
    assert set(created) <= partitions()
    assert "monitoring_measurement_default" in partitions()


@pytest.mark.postgresql(reason="partitions are PostgreSQL's")
def test_a_write_for_next_month_lands_in_its_partition(pump):
    with time_machine.travel(datetime(2031, 11, 20, tzinfo=UTC), tick=False):
        measurement_partitions_ensure()
    measurements_record(measurements=[value(pump, datetime(2031, 12, 3, tzinfo=UTC), 1.0)])
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM monitoring_measurement_p203112")
        assert cursor.fetchone() == (1,)


@pytest.mark.postgresql(reason="partitions are PostgreSQL's")
def test_rows_in_the_default_partition_move_to_a_new_months_partition(pump):
    measurements_record(measurements=[value(pump, datetime(2033, 5, 3, tzinfo=UTC), 1.0)])
    with time_machine.travel(datetime(2033, 5, 1, tzinfo=UTC), tick=False):
        measurement_partitions_ensure()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM monitoring_measurement_p203305")
        assert cursor.fetchone() == (1,)
    assert Measurement.objects.count() == 1


def test_values_are_aggregated_per_hour(pump):
    measurements_record(
        measurements=[
            value(pump, T0 + timedelta(minutes=10), 60.0),
            value(pump, T0 + timedelta(minutes=40), 64.0),
            value(pump, T0 + timedelta(minutes=50), 62.0),
            value(pump, T0 + timedelta(minutes=70), 70.0),
            value(pump, T0 + timedelta(minutes=5), 1.5, name="vibration"),
        ]
    )
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        assert measurements_aggregate() == 3
    hours = MeasurementHour.objects.order_by("name", "hour")
    rows = [(h.name, h.hour, h.count, h.min, h.max, h.mean, h.last_value) for h in hours]
    assert rows == [
        ("bearing_temperature", T0, 3, 60.0, 64.0, 62.0, 62.0),
        ("bearing_temperature", T0 + timedelta(hours=1), 1, 70.0, 70.0, 70.0, 70.0),
        ("vibration", T0, 1, 1.5, 1.5, 1.5, 1.5),
    ]
    assert hours[0].last_at == T0 + timedelta(minutes=50)
    assert {h.site_id for h in hours} == {pump.site_id}


def test_aggregating_again_gives_the_same_hours_and_counts_late_values(pump):
    measurements_record(measurements=[value(pump, T0 + timedelta(minutes=10), 60.0)])
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        measurements_aggregate()
        measurements_aggregate()
    assert MeasurementHour.objects.get().count == 1
    measurements_record(measurements=[value(pump, T0 + timedelta(minutes=20), 70.0)])
    with time_machine.travel(T0 + timedelta(hours=5), tick=False):
        measurements_aggregate()
    hour = MeasurementHour.objects.get()
    assert (hour.count, hour.min, hour.max, hour.sum, hour.last_value) == (2, 60, 70, 130, 70)


def test_raw_values_expire_after_the_retention_and_hours_stay(pump, settings):
    settings.MEASUREMENT_RAW_RETENTION_DAYS = 30
    settings.MEASUREMENT_HOURLY_RETENTION_DAYS = 365
    measurements_record(
        measurements=[value(pump, T0, 1.0), value(pump, T0 + timedelta(days=20), 2.0)]
    )
    with time_machine.travel(T0 + timedelta(days=21), tick=False):
        measurements_aggregate()
    with time_machine.travel(T0 + timedelta(days=31), tick=False):
        result = measurements_expire()
    assert result.raw_deleted == 1
    assert list(Measurement.objects.values_list("value", flat=True)) == [2.0]
    assert MeasurementHour.objects.count() == 2
    with time_machine.travel(T0 + timedelta(days=366), tick=False):
        result = measurements_expire()
    assert result.hours_deleted == 1
    assert list(MeasurementHour.objects.values_list("max", flat=True)) == [2.0]


@pytest.mark.postgresql(reason="partitions are PostgreSQL's")
def test_wholly_expired_months_are_dropped_as_partitions(pump, settings):
    settings.MEASUREMENT_RAW_RETENTION_DAYS = 30
    with time_machine.travel(datetime(2034, 1, 5, tzinfo=UTC), tick=False):
        measurement_partitions_ensure()
    measurements_record(
        measurements=[
            value(pump, datetime(2034, 1, 10, tzinfo=UTC), 1.0),
            value(pump, datetime(2034, 2, 10, tzinfo=UTC), 2.0),
            value(pump, datetime(2034, 3, 10, tzinfo=UTC), 3.0),
        ]
    )
    with time_machine.travel(datetime(2034, 3, 20, tzinfo=UTC), tick=False):
        result = measurements_expire()
    assert "monitoring_measurement_p203401" in result.partitions_dropped
    assert "monitoring_measurement_p203401" not in partitions()
    assert result.raw_deleted == 1  # 10 February, in the month the cut-off falls in
    assert list(Measurement.objects.values_list("value", flat=True)) == [3.0]


def test_beat_runs_the_partitions_aggregation_and_retention_tasks(settings, pump):
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    names = {
        "monitoring.tasks.ensure_measurement_partitions",
        "monitoring.tasks.aggregate_measurements",
        "monitoring.tasks.expire_measurements",
    }
    assert names <= scheduled
    assert names <= set(app.tasks.keys())
    measurements_record(measurements=[value(pump, T0, 1.0)])
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        assert tasks.aggregate_measurements() == 1
        assert tasks.expire_measurements()["raw_deleted"] == 0
