"""The report's page, PDF and index: who may open them, and what they show."""

import io
from pathlib import Path

import pypdfium2
import pytest
from pypdf import PdfReader

from reports import views
from reports.pdf import PdfUnavailable
from tests.factories import SiteFactory

pytestmark = pytest.mark.django_db

URL = "/reports/customers/{pk}/2026-10/"
PDF = "/reports/customers/{pk}/2026-10.pdf"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def get(client, user, url):
    client.force_login(user)
    return client.get(url)


def test_a_customer_viewer_reads_their_report_with_every_section_and_definition(client, known):
    response = get(client, known.viewer, URL.format(pk=known.customer.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Acme Foods: monthly report, October 2026" in html
    sections = ("sla", "pm", "work-done", "funnel", "caught", "reliability", "top-assets")
    for section in (*sections, "costs", "fleet"):
        assert f'id="{section}"' in html
    assert "C-ACME-1" in html and "71.4 %" in html
    assert "1550.00 EUR" in html
    assert "historic mean time to repair" in html  # the avoided-downtime estimate's definition
    assert f'href="/reports/customers/{known.customer.pk}/2026-10.pdf"' in html
    assert "<svg" in html


def test_a_foreign_customer_answers_like_a_missing_one(client, known):
    foreign = get(client, known.viewer, URL.format(pk=known.other_customer.pk))
    missing = get(client, known.viewer, URL.format(pk=999999))
    assert foreign.status_code == missing.status_code == 404
    pdf = get(client, known.viewer, PDF.format(pk=known.other_customer.pk))
    assert pdf.status_code == 404


def test_a_site_of_another_customer_or_a_bad_month_is_a_404(client, known):
    url = URL.format(pk=known.customer.pk)
    assert get(client, known.planner, f"{url}?site={known.other_site.pk}").status_code == 404
    assert get(client, known.planner, f"{url}?site=x").status_code == 404
    bad = f"/reports/customers/{known.customer.pk}/2026-13/"
    assert get(client, known.planner, bad).status_code == 404


def test_a_report_for_one_site_shows_that_sites_work_only(client, known):
    south = SiteFactory(customer=known.customer, code="acme-south", name="Acme South")
    known.planner.sites.add(south)
    url = URL.format(pk=known.customer.pk)
    html = get(client, known.planner, f"{url}?site={south.pk}").content.decode()
    assert "Site Acme South" in html
    assert "C-ACME-1" not in html  # no contract work at the south site
    assert f"2026-10.pdf?site={south.pk}" in html


def test_technicians_may_not_read_reports_and_anonymous_users_log_in(client, known):
    assert get(client, known.technician, URL.format(pk=known.customer.pk)).status_code == 403
    assert get(client, known.technician, "/reports/").status_code == 403
    client.logout()
    response = client.get(URL.format(pk=known.customer.pk))
    assert response.status_code == 302 and response["Location"].startswith("/tech/login/")


def test_the_index_lists_the_readers_customers_and_picks_a_month(client, known):
    html = get(client, known.viewer, "/reports/").content.decode()
    assert "Acme Foods" in html and "Globex" not in html
    assert URL.format(pk=known.customer.pk) in html
    picked = client.get("/reports/", {"customer": known.customer.pk, "month": "2026-10"})
    assert picked.status_code == 302 and picked["Location"] == URL.format(pk=known.customer.pk)
    foreign = client.get("/reports/", {"customer": known.other_customer.pk, "month": "2026-10"})
    assert foreign.status_code == 200 and "Pick one of your customers" in foreign.content.decode()


def test_the_viewers_home_and_the_planner_dashboard_link_to_the_reports(client, known):
    assert 'href="/reports/"' in get(client, known.viewer, "/tech/").content.decode()
    assert 'href="/reports/"' in get(client, known.planner, "/admin/planner/").content.decode()


def test_the_pdf_is_a_document_with_a_cover_page_numbers_and_the_figures(client, known):
    response = get(client, known.planner, PDF.format(pk=known.customer.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="report-{known.customer.pk}-2026-10.pdf"' in response["Content-Disposition"]
    save_first_pages(response.content, "report-pdf")
    reader = PdfReader(io.BytesIO(response.content))
    pages = [page.extract_text() for page in reader.pages]
    assert 3 <= len(pages) <= 6
    cover = pages[0]
    assert "Acme Foods" in cover and "October 2026" in cover
    assert "Your maintenance partner" in cover and "Page 1" not in cover
    for number, text in enumerate(pages[1:], start=2):
        assert f"Page {number} of {len(pages)}" in text
        assert "Acme Foods · October 2026" in text
    body = "\n".join(pages[1:])
    assert "71.4 %" in body and "1550.00 EUR" in body and "97.6 %" in body
    assert "319.3" in body  # pump MTBF
    assert "Costs against the contract" in body
    assert "1000.00 0.00 0.00 0.00 0.00 0.00 1000.00" in body  # fee, nothing on top


def test_without_pango_the_pdf_is_a_503_that_says_why_and_the_page_still_works(
    client, known, monkeypatch
):
    def no_pango(report):
        raise PdfUnavailable("cannot load library 'libpango-1.0-0'")

    monkeypatch.setattr(views, "render_report_pdf", no_pango)
    response = get(client, known.planner, PDF.format(pk=known.customer.pk))
    assert response.status_code == 503
    assert "Pango" in response.content.decode()
    assert get(client, known.planner, URL.format(pk=known.customer.pk)).status_code == 200


def save_first_pages(pdf: bytes, name: str) -> None:
    """The PDF and PNGs of its first two pages, beside the browser screenshots (CI artifacts)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{name}.pdf").write_bytes(pdf)
    document = pypdfium2.PdfDocument(pdf)
    try:
        for index in range(min(2, len(document))):
            image = document[index].render(scale=1.5).to_pil()
            path = ARTIFACTS / f"{name}-page-{index + 1}.png"
            image.save(path)
            assert path.stat().st_size > 10_000
    finally:
        document.close()


@pytest.mark.parametrize("month", ["9999-12", "0001-01", "0000-12"])
@pytest.mark.parametrize("suffix", ["/", ".pdf"])
def test_a_month_whose_bounds_do_not_exist_is_a_404_not_a_crash(client, known, month, suffix):
    # The sites are in Berlin, east of UTC: midnight of 1 January of year 1 there is before
    # the first instant Python knows; the end of December 9999 is in year 10000.
    url = f"/reports/customers/{known.customer.pk}/{month}{suffix}"
    assert get(client, known.planner, url).status_code == 404


@pytest.mark.parametrize("month", ["0002-01", "9998-12"])
def test_the_first_and_last_months_with_bounds_open(client, known, month):
    url = f"/reports/customers/{known.customer.pk}/{month}/"
    assert get(client, known.planner, url).status_code == 200


@pytest.mark.parametrize("month", ["9999-12", "0001-01"])
def test_the_index_refuses_a_month_without_bounds_instead_of_redirecting(client, known, month):
    picked = get(client, known.viewer, f"/reports/?customer={known.customer.pk}&month={month}")
    assert picked.status_code == 200
    assert "Pick one of your customers and a month." in picked.content.decode()
