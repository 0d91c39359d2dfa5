"""The monthly report as a PDF document (WeasyPrint): a cover, the client and period in every
page's header, "page N of M" in the footer, the same sections and charts as the HTML page.

The page layout is print CSS in `reports/static/reports/report.css` (`@page` rules, read by
WeasyPrint only); no file is fetched over the network, so rendering needs no server.
"""

from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string

from reports.charts import report_charts
from reports.figures import MonthlyReport

STYLESHEET = Path(__file__).resolve().parent / "static" / "reports" / "report.css"


def report_context(report: MonthlyReport) -> dict:
    """What the page, the document and the e-mail show of a report."""
    return {
        "report": report,
        "scope": report.scope,
        "charts": report_charts(report),
        "partner": settings.REPORT_PARTNER_NAME,
    }


class PdfUnavailable(Exception):
    """WeasyPrint cannot run here: the system's Pango libraries are missing."""


def render_report_pdf(report: MonthlyReport) -> bytes:
    """The report as PDF bytes.

    WeasyPrint is imported here, not with the module: it loads the system's Pango when
    imported, and a machine without Pango (a quick demo) should still serve every other page.
    """
    try:
        from weasyprint import CSS, HTML
    except OSError as error:  # cannot load library 'libpango-1.0-0'
        raise PdfUnavailable(str(error)) from error
    html = render_to_string("reports/document.html", report_context(report))
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(
        stylesheets=[CSS(filename=str(STYLESHEET))]
    )


def report_filename(report: MonthlyReport) -> str:
    """E.g. `report-acme-2026-10.pdf` (the customer's id keeps it unique and ASCII)."""
    scope = report.scope
    site = f"-{scope.site.code}" if scope.site else ""
    return f"report-{scope.customer.pk}{site}-{scope.month:%Y-%m}.pdf"
