"""The trend of each measurement on the asset pages (admin and /tech/): its values, limits,
alerts and work orders, projection, last value and age, in a bounded number of queries."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from alerts.models import Alert
from condition import trends
from monitoring.models import MonitoredMeasurement
from monitoring.services import MeasurementIn, measurements_aggregate, measurements_record
from tests.factories import AssetFactory, PlannerFactory, TechnicianFactory, WorkOrderFactory
from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 20, 10, 4, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


def record(asset, name, values, *, unit="mm/s", every=timedelta(hours=1), last=NOW):
    """`values` oldest first, the last one at `last`, one every `every`; then aggregated."""
    count = len(values)
    batch = [
        MeasurementIn(asset.pk, name, unit, v, last - every * (count - 1 - i), "alert")
        for i, v in enumerate(values)
    ]
    measurements_record(measurements=batch)
    measurements_aggregate(now=last)


def watch(asset, name="vibration", **fields):
    limits = {"unit": "mm/s", "alarm_limit": 7.1, "warning_limit": 4.5, "healthy_level": 1.0}
    return MonitoredMeasurement.objects.create(
        asset=asset, site=asset.site, name=name, **(limits | fields)
    )


def alert(asset, condition, at, *, severity="major", value=8.0):
    return Alert.objects.create(
        site=asset.site,
        alert_id=f"{condition}-{at.timestamp()}",
        asset=asset,
        asset_tag=asset.tag,
        condition=condition,
        severity=severity,
        observed_at=at,
        value=value,
        unit="mm/s",
    )


def chart_of(asset, name, *, days=30, width=640):
    found = trends.asset_trends(asset=asset, days=days, now=NOW)
    trend = next(t for t in found.trends if t.name == name)
    return trend, trends.trend_chart(trend, found, tz=BERLIN, width=width)


def y_axis(chart):
    """value -> y, read off the chart's value axis (its tick labels and grid lines)."""
    ticks = [(float(t.text), t.y - 4) for t in chart.texts if t.anchor == "end"]
    (v0, y0), (v1, y1) = ticks[0], ticks[-1]
    return lambda value: y0 + (value - v0) * (y1 - y0) / (v1 - v0)


def x_axis(chart, start, end):
    left = min(float(p.points.split(",")[0]) for p in chart.paths if p.dashed)
    right = max(float(p.points.split()[-1].split(",")[0]) for p in chart.paths if p.dashed)
    return lambda at: left + (right - left) * (at - start) / (end - start)


@time_machine.travel(NOW, tick=False)
def test_the_limits_are_drawn_as_lines_at_their_values(pump):
    record(pump, "vibration", [2.0, 3.0, 5.0, 6.0])
    watch(pump)
    _, chart = chart_of(pump, "vibration")
    at = y_axis(chart)
    limits = {p.title: p for p in chart.paths if p.dashed and "Projected" not in p.title}
    assert set(limits) == {"Alarm: 7.1 mm/s", "Warning: 4.5 mm/s", "Healthy: 1 mm/s"}
    for title, value in (("Alarm: 7.1 mm/s", 7.1), ("Healthy: 1 mm/s", 1.0)):
        _, y = limits[title].points.split()[0].split(",")
        assert float(y) == pytest.approx(at(value), abs=0.2)
    assert limits["Alarm: 7.1 mm/s"].stroke == trends.LIMIT_COLOURS["Alarm"]


@time_machine.travel(NOW, tick=False)
def test_alerts_and_work_orders_are_marked_at_their_time(pump):
    record(pump, "vibration", [2.0, 3.0])
    watch(pump)
    alert(pump, "vibration", NOW - timedelta(days=10), severity="critical")
    alert(pump, "anomaly.vibration", NOW - timedelta(days=20), severity="warning")
    alert(pump, "door_open", NOW - timedelta(days=5))  # about no measurement: not marked
    work = WorkOrderFactory(site=pump.site, asset=pump, title="Align the coupling")
    WorkOrder.objects.filter(pk=work.pk).update(created_at=NOW - timedelta(days=15))
    _, chart = chart_of(pump, "vibration")
    x_of = x_axis(chart, NOW - timedelta(days=30), NOW)
    circles = {m.fill: m for m in chart.markers if not m.square and m.size == 5}
    assert set(circles) == {trends.SEVERITY_COLOURS["critical"], trends.SEVERITY_COLOURS["warning"]}
    assert circles["#b42318"].x == pytest.approx(x_of(NOW - timedelta(days=10)), abs=0.2)
    assert circles["#7048e8"].x == pytest.approx(x_of(NOW - timedelta(days=20)), abs=0.2)
    (square,) = [m for m in chart.markers if m.square]
    assert square.x == pytest.approx(x_of(NOW - timedelta(days=15)), abs=0.2)
    assert work.number in square.title and "Align the coupling" in square.title


@time_machine.travel(NOW, tick=False)
def test_a_trend_work_order_is_marked_only_on_its_measurement(pump):
    record(pump, "vibration", [2.0, 3.0])
    record(pump, "temperature", [60.0, 61.0], unit="°C")
    WorkOrderFactory(site=pump.site, asset=pump, title="Proposed", condition="trend.vibration")
    _, vibration = chart_of(pump, "vibration")
    _, temperature = chart_of(pump, "temperature")
    assert [m for m in vibration.markers if m.square]
    assert not [m for m in temperature.markers if m.square]


@time_machine.travel(NOW, tick=False)
def test_the_projection_is_drawn_when_the_crossing_lies_within_the_span_and_horizon(pump):
    record(pump, "vibration", [2.0, 3.0, 5.0])
    monitored = watch(pump)
    monitored.last_value, monitored.last_at = 5.0, NOW
    monitored.projected_at = NOW + timedelta(days=10)
    monitored.save()
    _, chart = chart_of(pump, "vibration")
    (projection,) = [p for p in chart.paths if p.title.startswith("Projected")]
    (x1, y1), (x2, y2) = (map(float, xy.split(",")) for xy in projection.points.split())
    at = y_axis(chart)
    assert y1 == pytest.approx(at(5.0), abs=0.2) and y2 == pytest.approx(at(7.1), abs=0.2)
    # The time axis runs on to the crossing: "now" stands at 30 / 40 of the plot.
    plot_right = max(line.x2 for line in chart.lines)
    assert x2 == pytest.approx(plot_right, abs=0.2)
    assert x1 < x2

    monitored.projected_at = NOW + timedelta(days=monitored.horizon_days + 1)
    monitored.save()
    _, chart = chart_of(pump, "vibration")
    assert not [p for p in chart.paths if p.title.startswith("Projected")]


@time_machine.travel(NOW, tick=False)
def test_the_last_value_and_its_age_come_from_the_newest_raw_value(pump):
    record(pump, "vibration", [2.0, 12.3], last=NOW - timedelta(minutes=30))
    # Arrived after the aggregation ran: only in the raw table.
    measurements_record(
        measurements=[
            MeasurementIn(pump.pk, "vibration", "mm/s", 12.34, NOW - timedelta(minutes=4), "alert")
        ]
    )
    trend, _ = chart_of(pump, "vibration")
    # timesince keeps the number and its word together (a no-break space).
    assert trends.last_value_text(trend, NOW) == "12.34 mm/s · 4\xa0minutes ago"
    assert trend.points[-1][0] == NOW - timedelta(minutes=4)  # the line reaches it


@pytest.mark.parametrize(
    ("value", "text"),
    [(1e300, "1e+300 mm/s"), (-0.0, "0 mm/s"), (1e-300, "1e-300 mm/s"), (12.345678, "12.35 mm/s")],
)
def test_values_of_any_size_are_written_in_four_digits(value, text):
    from cmms.charts import fmt_value

    assert fmt_value(value, "mm/s") == text


@time_machine.travel(NOW, tick=False)
def test_huge_and_tiny_values_draw_without_error(client_for, technician, pump):
    record(pump, "huge", [-1e300, 1e300, -0.0])
    record(pump, "tiny", [1e-300, 2e-300])
    html = client_for(technician).get(f"/tech/assets/{pump.pk}/").content.decode()
    assert "1e+300" in html and "nan" not in html.lower().replace("nance", "")


@time_machine.travel(NOW, tick=False)
def test_the_empty_state_says_there_are_no_measurements(client_for, technician, pump):
    record(pump, "vibration", [2.0], last=NOW - timedelta(days=40))
    html = client_for(technician).get(f"/tech/assets/{pump.pk}/").content.decode()
    assert "No measurements in the last 30 days." in html
    html = client_for(technician).get(f"/tech/assets/{pump.pk}/?days=90").content.decode()
    assert "No measurements" not in html and "vibration" in html


def asset_with(count):
    asset = AssetFactory()
    for i in range(count):
        record(asset, f"m{i}", [1.0, 2.0, 3.0])
        watch(asset, name=f"m{i}")
        alert(asset, f"m{i}", NOW - timedelta(days=1))
    WorkOrderFactory(site=asset.site, asset=asset)
    return asset


@time_machine.travel(NOW, tick=False)
def test_the_queries_do_not_grow_with_the_number_of_measurements():
    one, many = asset_with(1), asset_with(6)
    with CaptureQueriesContext(connection) as few:
        assert len(trends.asset_trends(asset=one, now=NOW).trends) == 1
    with CaptureQueriesContext(connection) as more:
        found = trends.asset_trends(asset=many, now=NOW)
        for trend in found.trends:
            trends.trend_chart(trend, found, tz=BERLIN)
    assert len(found.trends) == 6
    assert len(more) == len(few) == 5


@pytest.mark.parametrize(
    ("asked", "days"), [("7", 7), ("90", 90), ("30", 30), ("", 30), ("12", 30), ("x", 30)]
)
def test_the_span_is_one_of_the_choices(asked, days):
    assert trends.parse_days(asked) == days


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("days", ["7", "90", "-1", "9" * 40, "1e9", "%00"])
def test_any_days_answers_the_page(client_for, technician, pump, days):
    record(pump, "vibration", [2.0, 3.0])
    response = client_for(technician).get(f"/tech/assets/{pump.pk}/", {"days": days})
    assert response.status_code == 200
    shown = days if days in ("7", "90") else "30"
    assert f'<strong aria-current="true">{shown} days</strong>' in response.content.decode()


@time_machine.travel(NOW, tick=False)
def test_a_technician_of_another_site_gets_a_404(client_for, pump, other_site):
    record(pump, "vibration", [2.0, 3.0])
    stranger = TechnicianFactory(username="sam", sites=[other_site])
    assert client_for(stranger).get(f"/tech/assets/{pump.pk}/").status_code == 404


@time_machine.travel(NOW, tick=False)
def test_the_admin_asset_page_shows_the_trends_to_its_sites_planners_only(
    client_for, planner, pump, other_site
):
    record(pump, "vibration", [2.0, 3.0])
    watch(pump)
    url = reverse("admin:assets_asset_change", args=[pump.pk])
    response = client_for(planner).get(url, {"days": "7"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'aria-label="vibration (mm/s) over the last 7 days"' in html
    assert "3 mm/s · just now" in html
    stranger = PlannerFactory(username="olga", sites=[other_site])
    response = client_for(stranger).get(url)
    assert response.status_code in (302, 404)
    assert b"vibration" not in response.content


@time_machine.travel(NOW, tick=False)
def test_a_hostile_name_and_unit_are_escaped(client_for, technician, pump):
    name = "<script>alert(1)</script>" + "x" * 70
    record(pump, name, [2.0, 3.0], unit="<b>u</b>")
    html = client_for(technician).get(f"/tech/assets/{pump.pk}/").content.decode()
    assert "<script>alert(1)" not in html and "<b>u</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@time_machine.travel(NOW, tick=False)
def test_each_chart_has_an_accessible_name_and_a_table_of_its_numbers(client_for, technician, pump):
    record(pump, "vibration", [2.0, 3.0])
    html = client_for(technician).get(f"/tech/assets/{pump.pk}/").content.decode()
    assert re.search(r'<svg [^>]*role="img" aria-label="vibration \(mm/s\) over the last 30', html)
    assert 'width="100%"' in html  # scales to the phone's width
    table = html[html.index("<details>") : html.index("</details>")]
    assert '<th scope="row">20 Mar 2026 11:04 CET</th>' in table  # the site's zone


@time_machine.travel(NOW, tick=False)
def test_time_labels_are_in_the_sites_zone(pump):
    record(pump, "vibration", [2.0, 3.0], every=timedelta(days=1))
    _, chart = chart_of(pump, "vibration", days=7)
    labels = [t.text for t in chart.texts if t.anchor == "middle"]
    assert labels[0] == "14 Mar" and labels[-1] == "20 Mar"  # Berlin midnights


@time_machine.travel(NOW, tick=False)
def test_ninety_days_of_hours_are_merged_into_at_most_the_points_drawn(pump):
    record(pump, "vibration", [float(i % 7) for i in range(90 * 24)])
    trend, chart = chart_of(pump, "vibration", days=90)
    assert len(trend.points) <= trends.MAX_DRAWN + 1
    band = next(p for p in chart.paths if p.closed)
    assert band.fill == "#d0ebff"
    assert min(p[1] for p in trend.points) == 0 and max(p[3] for p in trend.points) == 6
