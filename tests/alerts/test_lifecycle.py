"""The alert lifecycle's seams: task names that are a contract, and the layers it keeps."""

import ast
from pathlib import Path

from django.contrib import admin

from alerts import tasks
from alerts.admin import AlertInline
from alerts.choices import AlertStatus
from cmms.celery import app as celery_app
from workorders import selectors
from workorders.admin import StatusChangeInline
from workorders.models import WorkOrder

ROOT = Path(__file__).resolve().parents[2]


def test_the_tasks_keep_the_names_messages_routes_and_beat_know_them_by():
    names = {
        tasks.alert_process: "alerts.tasks.process_alert",
        tasks.alerts_process: "alerts.tasks.process_alerts",
        tasks.alerts_dispatch_chunks: "alerts.tasks.enqueue_alerts",
        tasks.alerts_sweep: "alerts.tasks.sweep_alerts",
    }
    for task, name in names.items():
        assert task.name == name
        assert celery_app.tasks[name] is task._get_current_object()


def test_the_kpis_count_alerts_by_the_statuses_alerts_store():
    assert (selectors.ALERT_PROCESSED, selectors.ALERT_RECORDED, selectors.ALERT_UNMATCHED) == (
        AlertStatus.PROCESSED,
        AlertStatus.RECORDED,
        AlertStatus.UNMATCHED,
    )


def test_the_work_order_page_lists_the_alerts_behind_it_before_the_status_history():
    inlines = list(admin.site._registry[WorkOrder].inlines)
    assert inlines.index(AlertInline) + 1 == inlines.index(StatusChangeInline)


def _imported_apps(app: str) -> set[str]:
    found = set()
    for path in (ROOT / app).rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return found


def test_alerts_import_the_rules_and_work_orders_never_the_reverse():
    assert "alerts" not in _imported_apps("pipeline")
    assert not {"alerts", "pipeline", "pm"} & _imported_apps("workorders")
