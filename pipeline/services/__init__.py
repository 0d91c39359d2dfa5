"""Pipeline services: `processing` turns alerts into work; `catalog` writes job plans and rules."""

from pipeline.services.catalog import alert_rule_save, job_plan_delete, job_plan_save
from pipeline.services.processing import (
    alert_mark_failed,
    alert_process,
    alerts_settle_quiet,
    rule_for,
    technician_for,
)

__all__ = [
    "alert_mark_failed",
    "alert_process",
    "alert_rule_save",
    "alerts_settle_quiet",
    "job_plan_delete",
    "job_plan_save",
    "rule_for",
    "technician_for",
]
