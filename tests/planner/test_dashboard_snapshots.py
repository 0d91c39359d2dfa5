"""Beat keeps the dashboard's period figures for planners of several sites; the page shows them
with the time they were computed, and reads one site, custom periods and missing ones live."""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse

from planner import selectors as planner_selectors
from planner import tasks
from planner.services import dashboard_snapshots_refresh
from tests.factories import PlannerFactory, SiteFactory, WorkOrderFactory
from workorders.choices import Source, WorkOrderType

# Depends on the site's day: runs at midday and just before midnight (tests.clock).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site_clock")]

URL = reverse("admin:planner-dashboard")


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def two_site_planner(known):
    other = SiteFactory(code="other")
    return PlannerFactory(username="planner-two", sites=[known.site, other])


def unplanned_figure(client, **params) -> int:
    return client.get(URL, params).context["kpis"].planned.unplanned


def add_failure(known):
    WorkOrderFactory(site=known.site, type=WorkOrderType.CORRECTIVE, source=Source.MANUAL)


def test_the_page_shows_the_figures_beat_kept_and_when_they_were_computed(
    client, known, two_site_planner
):
    client.force_login(two_site_planner)
    live = client.get(URL).context["kpis"]
    assert dashboard_snapshots_refresh() >= 3  # 30, 90 and 365 days for this planner's sites
    add_failure(known)  # a new open failure, after the snapshot
    response = client.get(URL)
    kpis = response.context["kpis"]
    assert kpis.planned.unplanned == live.planned.unplanned  # as computed, not as now
    assert response.context["computed_at"] is not None
    assert 'id="computed-at"' in response.content.decode()
    assert kpis.backlog_total == live.backlog_total + 1  # the figures of now stay live


def test_one_site_and_a_custom_period_are_read_live(client, known, two_site_planner):
    client.force_login(two_site_planner)
    dashboard_snapshots_refresh()
    before = unplanned_figure(client, site=known.site.pk)
    add_failure(known)
    response = client.get(URL, {"site": known.site.pk})
    assert response.context["kpis"].planned.unplanned == before + 1
    assert response.context["computed_at"] is None
    assert 'id="computed-at"' not in response.content.decode()
    start = known.start.date().isoformat()
    custom = client.get(URL, {"start": start, "end": known.end.date().isoformat()})
    assert custom.context["computed_at"] is None


def test_a_planner_of_one_site_reads_live_and_no_snapshot_crosses_site_sets(
    client, known, two_site_planner
):
    dashboard_snapshots_refresh()
    client.force_login(known.planner)  # one site: nothing kept for it
    response = client.get(URL)
    assert response.context["computed_at"] is None
    # The two-site planner's snapshot is keyed by exactly those two sites.
    form_period = response.context["kpis"].start, response.context["kpis"].end
    own = [known.site.pk]
    assert planner_selectors.dashboard_snapshot(own, *form_period) is None
    both = two_site_planner.sites.values_list("pk", flat=True)
    assert planner_selectors.dashboard_snapshot(both, *form_period) is not None


def test_without_a_snapshot_the_page_computes_the_figures_itself(client, known, two_site_planner):
    client.force_login(two_site_planner)
    before = unplanned_figure(client)
    add_failure(known)
    response = client.get(URL)
    assert response.context["kpis"].planned.unplanned == before + 1
    assert response.context["computed_at"] is None


def test_the_refresh_runs_every_ten_minutes_under_its_pinned_name():
    assert tasks.refresh_dashboard_figures.name == "planner.tasks.refresh_dashboard_figures"
    entry = settings.CELERY_BEAT_SCHEDULE["planner-dashboard"]
    assert entry["task"] == "planner.tasks.refresh_dashboard_figures"
    assert entry["schedule"] == planner_selectors.SNAPSHOT_EVERY_SECONDS
