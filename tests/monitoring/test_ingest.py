"""Measurements arrive with alerts, gateway readings and round readings, one INSERT a batch."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from alerts.models import Alert
from alerts.services import alerts_map_to_asset
from monitoring.models import Measurement
from pm.services import round_result_record
from tests.factories import MeterFactory, gateway_with_secret, inspection_route, round_run
from tests.webhooks import Hook, alert, signed_headers

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache(empty_cache):
    pass


def measurement_inserts(queries) -> int:
    return sum(
        1
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith('INSERT INTO "MONITORING_MEASUREMENT"')
    )


def rows():
    return list(
        Measurement.objects.order_by("at", "name").values_list(
            "asset__tag", "site__code", "name", "unit", "value", "at", "source"
        )
    )


def test_the_values_of_an_alert_batch_are_stored_in_one_statement(site, pump):
    hook = Hook(*gateway_with_secret(site=site))
    batch = [
        alert("a-1", observed_at="2025-05-01T12:00:00Z", value=11.2),
        alert("a-2", observed_at="2025-05-01T12:05:00Z", value=12.5),
        alert("a-3", observed_at="2025-05-01T12:06:00Z", value=None),  # no value
        alert("a-4", asset="NOPE", value=3.0),  # no such asset
        alert("a-5", condition="bearing_temperature", unit="°C", value=71),
    ]
    with CaptureQueriesContext(connection) as queries:
        assert hook.post({"alerts": batch}).status_code == 202
    assert measurement_inserts(queries) == 1
    t = datetime(2025, 5, 1, 12, tzinfo=UTC)
    assert rows() == [
        ("P-101", "north", "bearing_temperature", "°C", 71.0, t, "alert"),
        ("P-101", "north", "vibration.high", "mm/s", 11.2, t, "alert"),
        ("P-101", "north", "vibration.high", "mm/s", 12.5, t.replace(minute=5), "alert"),
    ]


def test_a_repeated_alert_brings_no_second_value(site, pump):
    hook = Hook(*gateway_with_secret(site=site))
    hook.post({"alerts": [alert("a-1")]})
    hook.post({"alerts": [alert("a-1")]})
    assert Measurement.objects.count() == 1


def test_alerts_mapped_to_an_asset_later_bring_their_values(site, pump, planner):
    hook = Hook(*gateway_with_secret(site=site))
    hook.post({"alerts": [alert("a-1", asset="P-1O1"), alert("a-2", asset="P-1O1", value=None)]})
    assert Measurement.objects.count() == 0
    alerts_map_to_asset(alerts=Alert.objects.all(), asset=pump, by=planner)
    assert [r[:5] for r in rows()] == [("P-101", "north", "vibration.high", "mm/s", 11.2)]


def test_an_alert_batch_without_values_writes_no_measurement(site, pump):
    hook = Hook(*gateway_with_secret(site=site))
    with CaptureQueriesContext(connection) as queries:
        hook.post({"alerts": [alert("a-1", value=None)]})
    assert measurement_inserts(queries) == 0


def test_the_accepted_readings_of_a_batch_are_stored_in_one_statement(site, pump):
    MeterFactory(asset=pump, code="hours", unit="h")
    gateway, secret = gateway_with_secret(site=site)
    readings = [
        {"reading_id": "r-1", "asset": "P-101", "meter": "hours", "value": 100.5,
         "observed_at": "2025-05-01T08:00:00Z"},
        {"reading_id": "r-2", "asset": "P-101", "meter": "hours", "value": 120,
         "observed_at": "2025-05-01T09:00:00Z"},
        {"reading_id": "r-3", "asset": "P-101", "meter": "hours", "value": 99,
         "observed_at": "2025-05-01T10:00:00Z"},  # backwards: refused
    ]  # fmt: skip
    body = json.dumps({"readings": readings})
    with CaptureQueriesContext(connection) as queries:
        response = Client().post(
            f"/hooks/v1/gateways/{gateway.pk}/readings",
            data=body,
            content_type="application/json",
            headers=signed_headers(secret, body),
        )
    assert response.status_code in (200, 202), response.content
    assert measurement_inserts(queries) == 1
    assert rows() == [
        ("P-101", "north", "hours", "h", 100.5, datetime(2025, 5, 1, 8, tzinfo=UTC), "reading"),
        ("P-101", "north", "hours", "h", 120.0, datetime(2025, 5, 1, 9, tzinfo=UTC), "reading"),
    ]


def test_a_round_reading_is_a_measurement_and_its_correction_replaces_it(site, pump, technician):
    pressure = MeterFactory(asset=pump, code="pressure", unit="bar", cumulative=False)
    route, _, reading = inspection_route(site, pump, meter=pressure)
    run = round_run(route)
    with CaptureQueriesContext(connection) as queries:
        round_result_record(run=run, route_check=reading, by=technician, value=Decimal("4.2"))
    assert measurement_inserts(queries) == 1
    assert [r[:5] + r[6:] for r in rows()] == [("P-101", "north", "pressure", "bar", 4.2, "round")]
    round_result_record(run=run, route_check=reading, by=technician, value=Decimal("4.5"))
    assert [r[4] for r in rows()] == [4.5]


def test_a_round_reading_without_a_meter_is_named_by_its_label(site, pump, technician):
    moment = datetime(2025, 6, 2, 9, 30, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        route, _, reading = inspection_route(site, pump)
        round_result_record(run=round_run(route), route_check=reading, by=technician, value=3)
    assert rows() == [("P-101", "north", "discharge-pressure", "bar", 3.0, moment, "round")]
