"""The dashboard's charts read at a glance: text large enough and with enough contrast (WCAG
2.1 AA), and no label clipped by its shape."""

import math
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from cmms import charts

# Depends on the site's day: runs at midday and just before midnight (tests.clock).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site_clock")]

PAGE = "#ffffff"


def dashboard_charts(client, known) -> dict:
    client.force_login(known.planner)
    return client.get(reverse("admin:planner-dashboard")).context["charts"]


def shape_under(chart, text):
    """The fill of the bar a text is drawn on (its anchor inside the rectangle), if any."""
    for rect in chart.rects:
        inside_x = rect.x <= text.x <= rect.x + rect.width
        if inside_x and rect.y <= text.y - 4 <= rect.y + rect.height:
            return rect.fill
    return None


def test_every_chart_text_is_at_least_12_px_and_contrasts_4_5_to_1(client, known):
    drawn = dashboard_charts(client, known)
    assert not drawn["pm"].empty and not drawn["funnel"].empty
    for name, chart in drawn.items():
        for text in chart.texts:
            assert text.size >= 12, (name, text)
            background = shape_under(chart, text) or PAGE
            assert charts.contrast(text.fill, background) >= 4.5, (name, text, background)


def test_the_funnel_labels_stand_beside_the_shapes(client, known):
    funnel = dashboard_charts(client, known)["funnel"]
    right_edge = max(
        float(point.split(",")[0]) for points, *_ in funnel.polygons for point in points.split()
    )
    assert [t.text for t in funnel.texts][::2] == [
        "Alerts received",
        "Processed with a work order",
        "Work orders created",
    ]
    for text in funnel.texts:
        assert text.anchor == "start" and text.x > right_edge
        assert text.x + charts.CHAR_WIDTH * len(text.text) <= funnel.width


def test_contrast_is_the_wcag_ratio():
    assert round(charts.contrast("#ffffff", "#000000"), 1) == 21.0
    assert round(charts.contrast("#79aec8", "#ffffff"), 2) == 2.41  # the old current tab
    assert charts.ink_on("#b42318") == "#ffffff"
    assert charts.ink_on("#f0b429") == charts.INK


def test_a_long_label_is_cut_to_its_room_with_an_ellipsis():
    chart = charts.horizontal_bars(
        label="x", rows=[("A very long equipment class name indeed", 3, "tooltip")]
    )
    name = chart.texts[0].text
    assert name.endswith("…") and len(name) * charts.CHAR_WIDTH <= 150
    assert chart.rects[0].title == "tooltip"


def test_no_text_in_the_charts_css_is_smaller_than_12_px():
    with open("planner/static/planner/planner.css") as css:
        sizes = [int(px) for px in re.findall(r"font-size:\s*(\d+)px", css.read())]
    assert sizes and min(sizes) >= 12


# ---------------------------------------------------------------- time series (trend charts)

BERLIN = ZoneInfo("Europe/Berlin")
T_END = datetime(2026, 3, 31, 10, 0, tzinfo=UTC)  # the week holds the spring-forward night


def trend_chart(**overrides):
    start = T_END - timedelta(days=7)
    points = [
        (start + timedelta(hours=6 * i), 2.0 + i * 0.1, 2.5 + i * 0.1, 3.0 + i * 0.1)
        for i in range(28)
    ]
    arguments = {
        "label": "vibration (mm/s)",
        "points": points,
        "start": start,
        "end": T_END,
        "tz": BERLIN,
        "limits": [("Alarm", 7.1, "#b42318"), ("Warning", 4.5, "#c2410c")],
        "events": [
            charts.TimeEvent(T_END - timedelta(days=2), "#b42318", "Alert vibration"),
            charts.TimeEvent(T_END - timedelta(days=1), charts.EVENT_INK, "WO-1 Fix", True),
        ],
        "projection": (T_END, 5.2, T_END + timedelta(days=3), 7.1),
        "now": T_END,
        "unit": "mm/s",
    }
    return charts.time_series(**(arguments | overrides))


def coordinates(chart) -> list[float]:
    numbers = [v for t in chart.texts for v in (t.x, t.y)]
    numbers += [v for line in chart.lines for v in (line.x1, line.y1, line.x2, line.y2)]
    numbers += [v for m in chart.markers for v in (m.x, m.y)]
    numbers += [float(n) for p in chart.paths for xy in p.points.split() for n in xy.split(",")]
    return numbers


def test_a_trend_charts_text_is_12_px_and_contrasts_and_its_graphics_contrast_3_to_1():
    chart = trend_chart()
    assert chart.texts and not chart.empty
    for text in chart.texts:
        assert text.size >= 12 and charts.contrast(text.fill, PAGE) >= 4.5, text
    for path in chart.paths:
        if path.stroke != "none":
            assert charts.contrast(path.stroke, PAGE) >= 3, path
    for marker in chart.markers:
        assert charts.contrast(marker.fill, PAGE) >= 3, marker
    assert all(0 <= n <= chart.width for n in coordinates(chart))


def test_the_time_axis_runs_on_to_a_projected_crossing_and_marks_now():
    chart = trend_chart()
    (projection,) = [p for p in chart.paths if p.stroke == charts.PROJECTION]
    end_x = float(projection.points.split()[-1].split(",")[0])
    assert end_x == pytest.approx(chart.width - 12)
    (now,) = [t for t in chart.texts if t.text == "now"]
    assert now.x - 3 == pytest.approx(end_x - (end_x - 36 - 10) * 3 / 10, abs=30)


def test_time_ticks_are_the_sites_midnights_across_a_daylight_saving_change():
    ticks = charts._time_ticks(T_END - timedelta(days=7), T_END, BERLIN, room=8)
    assert [text for _, text in ticks] == [f"{day} Mar" for day in range(25, 32)]
    for moment, _ in ticks:
        local = moment.astimezone(BERLIN)
        assert (local.hour, local.minute) == (0, 0)


def test_hour_ticks_are_counted_in_real_hours():
    start = datetime(2026, 3, 29, 0, 0, tzinfo=UTC)  # 01:00 in Berlin, an hour before the jump
    ticks = charts._time_ticks(start, start + timedelta(hours=4), BERLIN, room=8)
    assert [text for _, text in ticks] == ["01:00", "03:00", "04:00", "05:00", "06:00"]


def test_a_chart_of_values_that_are_not_finite_or_huge_stays_drawable():
    assert trend_chart(points=[(T_END, float("nan"), float("nan"), float("nan"))]).empty
    huge = [(T_END - timedelta(hours=i), -1e308, 0.0, 1e308) for i in range(3)]
    chart = trend_chart(points=huge, limits=[], projection=None)
    assert not chart.empty
    assert all(math.isfinite(n) for n in coordinates(chart))
    tiny = [(T_END - timedelta(hours=i), 1e-300, 1e-300, 1e-300) for i in range(3)]
    assert all(math.isfinite(n) for n in coordinates(trend_chart(points=tiny, limits=[])))


def test_a_flat_series_draws_a_line_and_no_band():
    flat = [(T_END - timedelta(hours=i), 4.0, 4.0, 4.0) for i in range(3, 0, -1)]
    chart = trend_chart(points=flat, limits=[], projection=None)
    assert [p.closed for p in chart.paths] == [False]
