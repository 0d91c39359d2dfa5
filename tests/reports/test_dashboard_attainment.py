"""The planner dashboard's SLA attainment KPI: per contract, this month and last, defined."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from contracts.attainment import DEFINITION
from planner.selectors import month_bounds

pytestmark = pytest.mark.django_db


def test_the_dashboard_shows_each_contracts_attainment_this_month_and_last(client, known):
    client.force_login(known.planner)
    response = client.get("/admin/planner/", {"site": known.site.pk})
    assert response.status_code == 200
    [row] = response.context["sla"]
    assert row.contract == known.contract
    assert (row.last.judged, row.last.resolution_met, row.last.both_met) == (7, 5, 3)
    assert (row.current.judged, row.current.both_met) == (1, 1)
    html = response.content.decode()
    assert 'id="sla-attainment"' in html and DEFINITION in html
    assert "71.4 % / 71.4 % / 42.9 % of 7" in html


def test_another_sites_work_is_not_in_the_planners_attainment(client, known):
    client.force_login(known.planner)
    rows = client.get("/admin/planner/").context["sla"]
    assert [row.contract for row in rows] == [known.contract]
    assert rows[0].last.judged == 7  # the other customer's work has no contract anyway


def test_the_attainment_adds_at_most_two_queries_to_the_dashboard(
    client, known, django_assert_max_num_queries
):
    client.force_login(known.planner)
    client.get("/admin/planner/", {"site": known.site.pk})  # sessions, caches
    # 16 before the attainment, + 2 for it, + 1 for the route compliance (docs/rounds.md),
    # + 2 for the predicted failures (the projected crossings, their proposals: none here).
    with django_assert_max_num_queries(21):
        client.get("/admin/planner/", {"site": known.site.pk})


def test_months_are_bounded_by_the_sites_midnights_in_utc():
    now = datetime(2026, 11, 10, 11, 0, tzinfo=UTC)
    bounds = month_bounds(now, ZoneInfo("Europe/Berlin"))
    assert bounds["last"] == (
        datetime(2026, 9, 30, 22, 0, tzinfo=UTC),
        datetime(2026, 10, 31, 23, 0, tzinfo=UTC),
    )
    assert bounds["current"][1] == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
