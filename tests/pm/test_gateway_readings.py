import json
from decimal import Decimal

import pytest
from django.test import Client

from assets.models import MeterReading
from pm.models import GatewayReading
from tests.factories import MeterFactory, gateway_with_secret
from tests.scheduling import generate_at, local, pm_work_orders
from tests.webhooks import signed_headers

pytestmark = pytest.mark.django_db

BERLIN = "Europe/Berlin"


@pytest.fixture(autouse=True)
def _clear_cache(empty_cache):
    pass


@pytest.fixture
def hours(pump):
    return MeterFactory(asset=pump, code="hours", unit="h")


@pytest.fixture
def gateway(site):
    return gateway_with_secret(site=site)


def post(gateway, readings, *, secret=None, content_type="application/json", body=None):
    gateway, real_secret = gateway
    body = body if body is not None else json.dumps({"readings": readings})
    return Client().post(
        f"/hooks/v1/gateways/{gateway.pk}/readings",
        data=body,
        content_type=content_type,
        headers=signed_headers(secret or real_secret, body),
    )


def reading(reading_id, value, observed_at, *, asset="P-101", meter="hours"):
    return {
        "reading_id": reading_id,
        "asset": asset,
        "meter": meter,
        "value": value,
        "observed_at": observed_at,
    }


def test_signed_readings_are_stored_with_a_result_per_item(gateway, hours):
    response = post(
        gateway,
        [
            reading("r-1", 100.5, "2025-05-01T08:00:00Z"),
            reading("r-2", 120, "2025-05-01T09:00:00+01:00"),
            reading("r-3", 99, "2025-05-01T10:00:00Z"),
            reading("r-4", 5, "2025-05-01T10:00:00Z", meter="cycles"),
        ],
    )

    assert response.status_code == 202
    body = response.json()
    assert [r["status"] for r in body["results"]] == [
        "accepted",
        "accepted",
        "refused",
        "unmatched",
    ]
    assert (body["accepted"], body["refused"], body["unmatched"]) == (2, 1, 1)
    assert "99.000 h is below the reading 120.000 h" in body["results"][2]["reason"]
    assert "cycles" in body["results"][3]["reason"]
    assert sorted(hours.readings.values_list("value", flat=True)) == [
        Decimal("100.500"),
        Decimal("120.000"),
    ]


def test_a_resent_reading_is_a_duplicate_and_a_changed_one_a_conflict(gateway, hours):
    post(gateway, [reading("r-1", 100, "2025-05-01T08:00:00Z")])
    again = post(
        gateway,
        [reading("r-1", 100, "2025-05-01T08:00:00Z"), reading("r-1", 101, "2025-05-01T08:00:00Z")],
    )

    assert [r["status"] for r in again.json()["results"]] == ["duplicate", "conflict"]
    assert MeterReading.objects.count() == 1
    assert GatewayReading.objects.count() == 1


def test_a_bad_signature_is_401_and_stores_nothing(gateway, hours):
    response = post(
        gateway,
        [reading("r-1", 1, "2025-05-01T08:00:00Z")],
        secret="whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=",
    )

    assert response.status_code == 401
    assert MeterReading.objects.count() == 0


def test_a_wrong_content_type_is_415(gateway, hours):
    response = post(gateway, [], content_type="text/plain", body="x")
    assert response.status_code == 415


def test_schema_errors_refuse_the_whole_request_with_every_problem(gateway, hours):
    response = post(
        gateway,
        [reading("r-1", "lots", "yesterday"), reading("", 1, "2025-05-01T08:00:00Z")],
    )

    assert response.status_code == 400
    fields = {(e["index"], e["field"]) for e in response.json()["errors"]}
    assert fields == {(0, "value"), (0, "observed_at"), (1, "reading_id")}
    assert MeterReading.objects.count() == 0


@pytest.mark.parametrize(
    "literal",
    ["1e27", "1e308", "-1e30", "1" + "0" * 40, "10000000000000", "-10000000000000.0"],
)
def test_a_value_beyond_the_meter_column_is_a_400_naming_the_value(gateway, hours, literal):
    body = (
        '{"readings": [{"reading_id": "r-1", "asset": "P-101", "meter": "hours", '
        f'"value": {literal}, "observed_at": "2025-05-01T08:00:00Z"}}]}}'
    )

    response = post(gateway, None, body=body)

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"index": 0, "field": "value", "message": "Must be less than 10^13 in magnitude."}
    ]
    assert MeterReading.objects.count() == 0


@pytest.mark.parametrize(
    "literal", ["1e999999", "-1e999999", "NaN", "Infinity", "-Infinity", "9" * 5000]
)
def test_a_number_json_cannot_hold_is_a_400(gateway, hours, literal):
    body = (
        '{"readings": [{"reading_id": "r-1", "asset": "P-101", "meter": "hours", '
        f'"value": {literal}, "observed_at": "2025-05-01T08:00:00Z"}}]}}'
    )

    response = post(gateway, None, body=body)

    assert response.status_code == 400
    assert MeterReading.objects.count() == 0


def test_the_largest_value_the_column_holds_is_stored(gateway, hours):
    response = post(gateway, [reading("r-1", 9999999999999.5, "2025-05-01T08:00:00Z")])

    assert response.status_code == 202
    assert hours.readings.get().value == Decimal("9999999999999.500")


def test_readings_from_the_gateway_trigger_a_meter_plan(gateway, hours, make_plan):
    plan = make_plan(
        local(BERLIN, 2025, 4, 1),
        trigger="meter",
        meter_code="hours",
        meter_interval=Decimal("500"),
        meter_lead=Decimal("25"),
        interval=None,
        starts_on=None,
    )
    post(gateway, [reading("r-1", 430, "2025-05-01T08:00:00Z")])
    generate_at(local(BERLIN, 2025, 5, 1, 12))
    assert pm_work_orders(plan) == []

    post(gateway, [reading("r-2", 480, "2025-05-02T08:00:00Z")])
    generate_at(local(BERLIN, 2025, 5, 2, 12))

    [wo] = pm_work_orders(plan)
    assert wo.pm_occurrence.threshold == Decimal("500")
