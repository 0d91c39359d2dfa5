"""The dashboard page: figures with their definitions and SVG charts, scoped to the planner."""

import re

import pytest
from django.urls import reverse

from tests.factories import CustomerViewerFactory, SiteFactory, TechnicianFactory

# Depends on the site's day: runs at midday and just before midnight (tests.clock).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site_clock")]

URL = "admin:planner-dashboard"


def test_the_dashboard_shows_each_figure_with_its_definition_and_a_chart(client, known):
    client.force_login(known.planner)
    response = client.get(reverse(URL))
    assert response.status_code == 200
    page = response.content.decode()
    for section in (
        "backlog",
        "sla-attainment",
        "pm-compliance",
        "route-compliance",
        "planned",
        "funnel",
        "mttr",
        "mtbf",
        "top-assets",
        "overdue",
        "predicted-failures",
    ):
        assert f'id="{section}"' in page
    assert page.count('class="definition"') == 11
    assert page.count("<svg") >= 7
    assert "PM compliance: 25.0 %" in page
    assert "40.0 % planned" in page
    assert "Work orders created" in page
    assert 'aria-label="Alert to work order funnel"' in page


def test_the_definitions_speak_words_not_field_names(client, known):
    client.force_login(known.planner)
    page = client.get(reverse(URL)).content.decode()
    definitions = re.findall(r'<p class="definition">(.*?)</p>', page, flags=re.S)
    assert len(definitions) == 11
    for text in definitions:
        assert not re.search(r"\b[a-z]+_[a-z_]+\b", text), text  # planned_due_at, completed_at
        assert "<code>" not in text
    assert "planned_due_at" not in page


def test_the_dashboard_uses_no_inline_style_or_script(client, known):
    client.force_login(known.planner)
    page = client.get(reverse(URL)).content.decode()
    assert " style=" not in page
    assert "<script>" not in page


def test_choosing_another_site_than_ones_own_is_refused_by_the_form(client, known):
    other = SiteFactory(code="other")
    client.force_login(known.planner)
    response = client.get(reverse(URL), {"site": other.pk})
    assert response.status_code == 200
    assert response.context["site"] is None
    assert "Select a valid choice" in response.content.decode()


def test_a_custom_period_narrows_the_figures(client, known):
    client.force_login(known.planner)
    day = known.now.date()
    response = client.get(reverse(URL), {"start": day.isoformat(), "end": day.isoformat()})
    kpis = response.context["kpis"]
    assert kpis.funnel.received == 0
    assert kpis.backlog_total == 5  # the backlog is "now", whatever the period


@pytest.mark.parametrize("factory", [TechnicianFactory, CustomerViewerFactory])
def test_technicians_and_customer_viewers_cannot_open_planner_pages(client, known, factory):
    user = factory(sites=[known.site], is_staff=True)
    client.force_login(user)
    for name in (URL, "admin:planner-triage", "admin:planner-dispatch"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]


def test_the_admin_index_links_the_workspace_with_what_is_burning(client, known):
    client.force_login(known.planner)
    response = client.get(reverse("admin:index"))
    assert response.context["planner"] == {"requested": 2, "unmatched": 1, "overdue": 1}
    assert reverse(URL) in response.content.decode()
