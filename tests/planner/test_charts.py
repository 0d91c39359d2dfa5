"""The dashboard's charts read at a glance: text large enough and with enough contrast (WCAG
2.1 AA), and no label clipped by its shape."""

import re

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
