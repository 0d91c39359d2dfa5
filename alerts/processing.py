"""Processing of one stored alert: hands it to the pipeline and keeps errors with the alert.

The pipeline (`pipeline.services.alert_process`) is idempotent, so a redelivered task or a
sweeper re-enqueue has the effect of one run. A database outage propagates (the task retries
and the sweeper covers it); any other error marks the alert `failed` with the error kept, and
the sweeper retries it with backoff.
"""

import logging
import traceback

from django.db import InterfaceError, OperationalError

logger = logging.getLogger(__name__)


def process_alert(*, alert_id: int) -> str | None:
    """Process the alert with this id; returns its new status (None: nothing to do)."""
    from pipeline.services import alert_mark_failed, alert_process

    try:
        return alert_process(alert_id=alert_id)
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:
        logger.exception("processing alert %s failed", alert_id)
        alert_mark_failed(
            alert_id=alert_id, error="".join(traceback.format_exception_only(exc)).strip()
        )
        return "failed"
