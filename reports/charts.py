"""The report's SVG charts, laid out by the shared builders of `cmms.charts`."""

from cmms import charts
from condition import health
from reports.figures import MonthlyReport


def report_charts(report: MonthlyReport) -> dict:
    """Every chart of the report, by name (an empty chart is not drawn)."""
    return {
        "sla": charts.horizontal_bars(
            label="Work resolved within its target, per contract, percent",
            rows=[
                (
                    row.contract.reference,
                    row.attainment.resolution_percent or 0,
                    f"{row.contract}: {row.attainment.resolution_met} of "
                    f"{row.attainment.judged} resolved in time",
                )
                for row in report.sla
            ],
            unit=" %",
            colour=charts.ON_TIME,
            scale_max=100,
        ),
        "pm": charts.percent_bar(
            label="PM work orders due in the month",
            parts=[
                ("on time", report.pm.on_time, charts.ON_TIME),
                ("late", report.pm.late, charts.LATE),
                ("not done", report.pm.not_done, charts.NOT_DONE),
            ],
        ),
        "work_done": charts.horizontal_bars(
            label="Work orders completed in the month by type",
            rows=[(row.label, row.count, f"{row.label}: {row.count}") for row in report.work_done],
            colour=charts.PLANNED,
        ),
        "funnel": charts.funnel(label="Alerts to work orders", steps=report.funnel.steps),
        "top_assets": charts.horizontal_bars(
            label="Assets with the most failures",
            rows=[
                (a.tag, a.failures, f"{a.tag} {a.name}: {a.failures} failures")
                for a in report.top_assets
            ],
            colour="#b42318",
        ),
        # Floats for the drawing's geometry only; the amounts themselves stay Decimal.
        "costs": charts.stacked_columns(
            label=f"Billed per contract: the fee and the work on top, {report.scope.currency}",
            categories=[row.contract.reference for row in report.costs],
            series=[
                ("monthly fee", [float(row.fee) for row in report.costs], charts.PLANNED),
                (
                    "on top of the fee",
                    [max(float(row.on_top), 0) for row in report.costs],
                    charts.LATE,
                ),
            ],
        ),
        "fleet": charts.horizontal_bars(
            label="Gateway availability in the month, percent",
            rows=[
                (gateway.name, availability.percent, f"{gateway.name}: {availability.percent} %")
                for gateway, availability in report.fleet.gateways
                if availability.percent is not None
            ],
            unit=" %",
            colour=charts.PLANNED,
            scale_max=100,
        ),
        "health_bands": charts.percent_bar(
            label="Assets by health score",
            parts=[
                (label, n, colour)
                for (label, n), colour in zip(report.health.bands, charts.RISK_COLOURS, strict=True)
            ],
        ),
        "health_grid": health.criticality_health_chart(report.health.assets),
    }
