"""`GET /api/v1/assets/{id}/measurements/`: ranges, resolutions, scoping and refusals."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from monitoring.choices import MeasurementSource
from monitoring.selectors import MAX_POINTS
from monitoring.services import MeasurementIn, measurements_aggregate, measurements_record
from tests.factories import AssetFactory

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)


def url(asset, **query):
    params = "&".join(f"{k}={v}" for k, v in query.items())
    return f"/api/v1/assets/{asset.pk}/measurements/" + (f"?{params}" if params else "")


def iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


def store(asset, values, *, name="bearing_temperature", unit="°C", start=T0, every=None):
    every = every or timedelta(minutes=20)
    measurements_record(
        measurements=[
            MeasurementIn(asset.pk, name, unit, v, start + i * every, MeasurementSource.ALERT)
            for i, v in enumerate(values)
        ]
    )


def test_raw_points_come_per_measurement_within_the_range(as_user, viewer, pump):
    store(pump, [60.0, 61.0, 62.0, 63.0])  # 08:00, 08:20, 08:40, 09:00
    store(pump, [1.5], name="vibration", unit="mm/s")
    end = T0 + timedelta(hours=1)
    response = as_user(viewer).get(url(pump, **{"from": iso(T0), "to": iso(end)}))
    assert response.status_code == 200, response.content
    assert response.json() == {
        "asset": pump.pk,
        "from": iso(T0),
        "to": iso(end),
        "resolution": "raw",
        "measurements": [
            {
                "name": "bearing_temperature",
                "unit": "°C",
                "points": [
                    [iso(T0), 60.0],
                    [iso(T0 + timedelta(minutes=20)), 61.0],
                    [iso(T0 + timedelta(minutes=40)), 62.0],
                ],
            },
            {"name": "vibration", "unit": "mm/s", "points": [[iso(T0), 1.5]]},
        ],
    }


def test_one_measurement_can_be_asked_for_by_name(as_user, viewer, pump):
    store(pump, [60.0])
    store(pump, [1.5], name="vibration", unit="mm/s")
    query = {"from": iso(T0), "to": iso(T0 + timedelta(hours=1)), "name": "vibration"}
    body = as_user(viewer).get(url(pump, **query)).json()
    assert [s["name"] for s in body["measurements"]] == ["vibration"]


def test_hourly_and_daily_points_are_min_mean_max_and_count(as_user, viewer, pump):
    store(pump, [60.0, 64.0, 62.0, 70.0])  # three in the 08:00 hour, one at 09:00
    with time_machine.travel(T0 + timedelta(hours=3), tick=False):
        measurements_aggregate()
    query = {"from": iso(T0), "to": iso(T0 + timedelta(days=1))}
    hourly = as_user(viewer).get(url(pump, resolution="hour", **query)).json()
    assert hourly["measurements"][0]["points"] == [
        [iso(T0), 60.0, 62.0, 64.0, 3],
        [iso(T0 + timedelta(hours=1)), 70.0, 70.0, 70.0, 1],
    ]
    day = T0.replace(hour=0)
    daily = as_user(viewer).get(url(pump, resolution="day", **{"from": iso(day)})).json()
    assert daily["resolution"] == "day"
    assert daily["measurements"][0]["points"] == [[iso(day), 60.0, 64.0, 70.0, 4]]


def test_a_long_range_defaults_to_hourly_points(as_user, viewer, pump):
    query = {"from": iso(T0), "to": iso(T0 + timedelta(days=8))}
    assert as_user(viewer).get(url(pump, **query)).json()["resolution"] == "hour"
    query = {"from": iso(T0), "to": iso(T0 + timedelta(days=7))}
    assert as_user(viewer).get(url(pump, **query)).json()["resolution"] == "raw"


def test_the_range_defaults_to_the_last_day(as_user, viewer, pump):
    with time_machine.travel(T0, tick=False):
        body = as_user(viewer).get(url(pump)).json()
    assert (body["from"], body["to"]) == (iso(T0 - timedelta(days=1)), iso(T0))


def test_the_query_count_does_not_grow_with_the_points(as_user, viewer, pump):
    client = as_user(viewer)
    query = {"from": iso(T0), "to": iso(T0 + timedelta(days=2))}
    store(pump, [1.0])
    with CaptureQueriesContext(connection) as few:
        client.get(url(pump, **query))
    store(pump, [float(i) for i in range(100)], name="vibration", start=T0 + timedelta(hours=1))
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(url(pump, **query)).json()["measurements"][1]["points"]) == 100
    assert len(many) == len(few)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-13-01T00:00:00Z"}, "to"),
        ({"from": "2026-03-02T00:00:00Z", "to": "2026-03-01T00:00:00Z"}, "from"),
        ({"from": "2026-01-01T00:00:00Z", "to": "2026-03-01T00:00:00Z", "resolution": "raw"},
         "from"),
        ({"from": "2020-01-01T00:00:00Z", "to": "2026-03-01T00:00:00Z"}, "from"),
        ({"resolution": "week"}, "resolution"),
        ({"from": "0001-01-01T00:00:00Z"}, "from"),
        ({"to": "9999-12-31T23:59:59Z"}, "to"),
        ({"name": "x" * 101}, "name"),
    ],
)  # fmt: skip
def test_bad_queries_answer_400_naming_the_field(as_user, viewer, pump, query, field):
    response = as_user(viewer).get(url(pump, **query))
    assert response.status_code == 400
    assert field in response.json(), response.json()


def test_too_many_points_answer_400_asking_for_a_coarser_resolution(
    as_user, viewer, pump, monkeypatch
):
    monkeypatch.setattr("monitoring.selectors.MAX_POINTS", 3)
    store(pump, [1.0, 2.0, 3.0, 4.0])
    query = {"from": iso(T0), "to": iso(T0 + timedelta(hours=2))}
    response = as_user(viewer).get(url(pump, **query))
    assert response.status_code == 400
    assert "resolution" in response.json()
    assert MAX_POINTS == 10_000


def test_another_sites_asset_answers_404_like_a_missing_one(as_user, viewer, other_site):
    foreign = AssetFactory(site=other_site, tag="P-900")
    store(foreign, [1.0])
    client = as_user(viewer)
    assert client.get(url(foreign)).status_code == 404
    assert client.get("/api/v1/assets/999999999/measurements/").status_code == 404
    assert client.get("/api/v1/assets/abc/measurements/").status_code == 404


def test_measurements_are_scoped_by_site_for_every_reader(as_user, planner_at_both_sites, pump):
    store(pump, [5.0])
    query = {"from": iso(T0), "to": iso(T0 + timedelta(hours=1))}
    body = as_user(planner_at_both_sites).get(url(pump, **query)).json()
    assert body["measurements"][0]["points"] == [[iso(T0), 5.0]]


def test_anonymous_callers_are_refused(api, pump):
    assert api.get(url(pump)).status_code == 401
