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


def process_alerts(*, alert_ids: list[int]) -> None:
    """Process a chunk: the quiet alerts (no work to open or join) settled together in one
    transaction, then each of the others in its own. If settling the chunk fails for a reason
    other than the database, every alert takes the one-by-one path, where an error stays with
    the alert that caused it."""
    from pipeline.services import alerts_settle_quiet

    try:
        rest = alerts_settle_quiet(alert_ids=alert_ids)
    except (OperationalError, InterfaceError):
        raise
    except Exception:
        logger.exception("settling a chunk of %s alerts failed; one by one", len(alert_ids))
        rest = alert_ids
    for alert_id in rest:
        process_alert(alert_id=alert_id)
