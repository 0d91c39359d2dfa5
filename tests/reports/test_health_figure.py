"""The monthly report's asset health figure: the customer's (or the reader's) assets scored as of
the report's generation, by band, by criticality x band, the ten worst, in the page and the PDF.

Known customer (tests/reports/conftest.py), clock at 10 November 2026, no installation dates and
no watched measurement, so only work counts: P-1 three corrective repairs in the last 365 days
(15) and one open (10): 75; P-2 and F-1 one repair (5) and one open (10): 85; P-3 one repair: 95.
"""

import io
from datetime import date

import pytest
from pypdf import PdfReader

from alerts.models import Alert
from condition.health import DEFINITION
from reports.figures import monthly_report, report_scope
from tests.factories import AssetFactory, SiteFactory
from tests.reports.conftest import NOW

pytestmark = pytest.mark.django_db
OCTOBER = date(2026, 10, 1)
URL = "/reports/customers/{pk}/2026-10/"


def health_of(known, **scope):
    report = monthly_report(report_scope(customer=known.customer, month=OCTOBER, **scope))
    return report.health


def test_the_figure_scores_the_customers_assets_worst_first(known):
    figure = health_of(known)
    assert [(a.tag, a.health.score) for a in figure.worst] == [
        ("P-1", 75),
        ("F-1", 85),
        ("P-2", 85),
        ("P-3", 95),
    ]
    assert figure.bands == [("0-19", 0), ("20-39", 0), ("40-59", 0), ("60-79", 1), ("80-100", 3)]
    assert figure.worst[0].health.reasons == [("failures", 15.0), ("open work", 10.0)]
    assert figure.at == NOW  # as of the report's generation, not the month's end


def test_anomalies_of_the_last_30_days_count_and_the_other_customer_never_does(known):
    Alert.objects.create(
        site=known.site,
        asset=known.p3,
        asset_tag="P-3",
        alert_id="anomaly-1",
        condition="anomaly.vibration",
        severity="major",
        observed_at=known.w4.completed_at,
    )
    figure = health_of(known)
    assert {a.tag: a.health.score for a in figure.assets}["P-3"] == 90
    assert "G-1" not in {a.tag for a in figure.assets}


def test_a_reader_sees_the_health_of_their_sites_only(known):
    south = SiteFactory(customer=known.customer, code="acme-south")
    AssetFactory(site=south, tag="S-1")
    assert "S-1" in {a.tag for a in health_of(known).assets}
    assert "S-1" not in {a.tag for a in health_of(known, user=known.viewer).assets}
    assert [a.tag for a in health_of(known, site=south).assets] == ["S-1"]


def test_only_ten_assets_are_listed_but_every_asset_is_counted(known):
    for i in range(12):
        AssetFactory(site=known.site, tag=f"X-{i:02d}")
    figure = health_of(known)
    assert len(figure.worst) == 10 and figure.count == 16
    assert sum(n for _, n in figure.bands) == 16


def test_the_page_shows_the_figure_with_its_definition_and_chart(client, known):
    client.force_login(known.viewer)
    html = client.get(URL.format(pk=known.customer.pk)).content.decode()
    section = html[html.index('id="health"') :]
    assert "Asset health: 4 assets" in section
    assert DEFINITION[:60] in section
    assert "scored when the report was generated" in section
    assert "Assets by criticality and health score" in section
    assert "P-1" in section and "failures 15, open work 10" in section


def test_the_pdf_carries_the_figure(client, known):
    client.force_login(known.planner)
    response = client.get(f"/reports/customers/{known.customer.pk}/2026-10.pdf")
    assert response.status_code == 200
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "Asset health: 4 assets" in text
    assert "failures 15, open work 10" in text
    assert "scored when the report was generated" in " ".join(text.split())
