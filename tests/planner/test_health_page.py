"""The planner's asset health page: one customer of the planner's sites at a time, worst first,
paginated, with the definition and the criticality x health chart; other customers answer 404."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from assets.choices import Criticality
from cmms import charts
from condition.health import DEFINITION
from monitoring.models import MonitoredMeasurement
from tests.factories import (
    AssetFactory,
    CustomerFactory,
    CustomerViewerFactory,
    PlannerFactory,
    SiteFactory,
    WorkOrderFactory,
)
from workorders.choices import WorkOrderType

pytestmark = pytest.mark.django_db
URL = reverse("admin:planner-health")


class TwoCustomers:
    def __init__(self):
        self.acme = CustomerFactory(name="Acme Foods")
        self.north = SiteFactory(customer=self.acme, code="acme-north")
        self.south = SiteFactory(customer=self.acme, code="acme-south")
        self.globex = CustomerFactory(name="Globex")
        self.globex_site = SiteFactory(customer=self.globex, code="globex")
        self.planner = PlannerFactory(sites=[self.north])
        self.sick = AssetFactory(site=self.north, tag="P-SICK", criticality=Criticality.A)
        MonitoredMeasurement.objects.create(
            asset=self.sick,
            site=self.north,
            name="vibration",
            alarm_limit=10,
            healthy_level=2,
            last_value=12,
            projected_at=timezone.now() - timedelta(hours=1),
        )
        WorkOrderFactory(site=self.north, asset=self.sick, type=WorkOrderType.CORRECTIVE)
        self.fine = AssetFactory(site=self.north, tag="P-FINE", criticality=Criticality.C)
        self.unseen = AssetFactory(site=self.south, tag="S-HIDDEN")
        self.foreign = AssetFactory(site=self.globex_site, tag="G-FOREIGN")


@pytest.fixture
def two(db):
    return TwoCustomers()


def get(client, user, **params):
    client.force_login(user)
    return client.get(URL, params)


def test_the_planner_sees_their_customers_assets_worst_first_with_the_definition(client, two):
    response = get(client, two.planner)
    assert response.status_code == 200
    html = response.content.decode()
    assert [a.tag for a in response.context["page"].object_list] == ["P-SICK", "P-FINE"]
    sick = response.context["page"].object_list[0]
    assert sick.health.score == 50  # condition 40, open work 10
    assert DEFINITION in html.replace("&#x27;", "'")
    assert f'id="asset-{two.sick.pk}"' in html and "<svg" in html
    assert "S-HIDDEN" not in html and "G-FOREIGN" not in html
    assert [c.name for c in response.context["customers"]] == ["Acme Foods"]
    assert 'class="current">Asset health</a>' in html


def test_the_chart_counts_the_assets_by_criticality_and_band(client, two):
    chart = get(client, two.planner).context["chart"]
    cells = [r.title for r in chart.rects]
    assert "Criticality A (high), health score 40-59: 1 assets" in cells
    assert "Criticality C (low), health score 80-100: 1 assets" in cells
    assert sum(int(t.split(": ")[1].split()[0]) for t in cells) == 2
    top_left = chart.rects[0]
    assert top_left.title.startswith("Criticality A (high), health score 0-19")


def test_every_chart_text_is_large_enough_and_contrasts_with_its_cell(client, two):
    chart = get(client, two.planner).context["chart"]
    for text in chart.texts:
        assert text.size >= 12
        under = [
            r.fill
            for r in chart.rects
            if r.x <= text.x <= r.x + r.width and r.y <= text.y - 4 <= r.y + r.height
        ]
        assert charts.contrast(text.fill, under[0] if under else "#ffffff") >= 4.5


@pytest.mark.parametrize("which", ["globex", "missing", "abc", "-1", "1" * 30, ""])
def test_a_customer_the_planner_does_not_serve_answers_like_a_missing_one(client, two, which):
    forged = {"globex": str(two.globex.pk), "missing": "999999"}.get(which, which)
    response = get(client, two.planner, customer=forged)
    assert response.status_code == 404
    assert b"G-FOREIGN" not in response.content


def test_a_planner_of_the_other_customer_sees_only_theirs(client, two):
    theirs = PlannerFactory(sites=[two.globex_site])
    assert get(client, theirs, customer=two.acme.pk).status_code == 404
    response = get(client, theirs)
    assert [a.tag for a in response.context["page"].object_list] == ["G-FOREIGN"]


def test_customer_viewers_do_not_get_in(client, two):
    viewer = CustomerViewerFactory(sites=[two.north])
    response = get(client, viewer)
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize("page", ["abc", "0", "-3", "99999", "1" * 40, "2.5"])
def test_bad_page_numbers_show_a_page_never_a_500(client, two, page):
    assert get(client, two.planner, page=page).status_code == 200


def test_the_assets_are_shown_fifty_a_page(client, two):
    for i in range(53):
        AssetFactory(site=two.north, tag=f"X-{i:03d}")
    first = get(client, two.planner, customer=two.acme.pk)
    assert len(first.context["page"].object_list) == 50
    assert first.context["total"] == 55
    assert f"customer={two.acme.pk}&amp;page=2" in first.content.decode()
    second = get(client, two.planner, customer=two.acme.pk, page=2)
    assert len(second.context["page"].object_list) == 5
    assert first.context["page"].object_list[0].tag == "P-SICK"


def test_a_planner_without_customers_sees_an_empty_page(client, two):
    nobody = PlannerFactory(sites=[])
    response = get(client, nobody)
    assert response.status_code == 200
    assert b"You serve no customer yet." in response.content


def test_every_risk_colour_carries_its_count_at_4_5_to_1():
    for fill in (*charts.RISK_COLOURS, charts.EMPTY_CELL):
        assert charts.contrast(charts.ink_on(fill), fill) >= 4.5, fill
