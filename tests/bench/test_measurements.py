"""The measurement storage figure (bench/measurements.py) at a tiny scale: every value lands in
both tables, the hours are aggregated, the reads return the whole 90-day window from the
partitions it covers, and the report's rows say met or missed."""

from datetime import UTC, datetime

import pytest
from django.db import connection

from bench.measurements import RAW_TABLE, measurements_figure
from bench.report import rows
from monitoring.models import Measurement, MeasurementHour

# 2 assets x 2 names, one value every 6 hours over 120 days: 480 instants, 1,920 values
TINY = {"assets": 2, "names": 2, "days": 120, "interval_s": 21600, "batch": 100, "reads": 3}


@pytest.mark.postgresql(reason="partitions, the raw table copied from the catalog and EXPLAIN")
@pytest.mark.django_db
def test_the_figure_stores_every_value_twice_and_reads_90_days_from_their_partitions():
    figure = measurements_figure(TINY, end=datetime(2026, 12, 1, tzinfo=UTC))

    storage = figure["storage"]
    assert (storage["values"], storage["stored"], storage["batches"]) == (1920, 1920, 20)
    assert Measurement.objects.count() == 1920
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {RAW_TABLE}")
        assert cursor.fetchone()[0] == 1920
    assert figure["aggregation"]["hours_written"] == MeasurementHour.objects.count() == 1920
    # 90 days of a value every 6 hours
    assert figure["read_raw"]["points_per_read"] == [360]
    assert figure["read_hour"]["points_per_read"] == [360]
    # The window is September to November: August's and December's partitions are pruned.
    assert figure["read_raw"]["explain"]["partitions_scanned"] == [
        "monitoring_measurement_p202609",
        "monitoring_measurement_p202610",
        "monitoring_measurement_p202611",
    ]
    assert figure["sizes"]["monitoring_measurement"]["table"] > 0
    verdicts = [row[-1] for row in rows({"measurements": figure})]
    assert len(verdicts) == 3
    assert set(verdicts) <= {"met", "**missed**"}
