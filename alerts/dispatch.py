"""Dispatch: handing stored alerts to the workers, one message for many alerts; never raises.

The outbox is the alert row itself (`received`); a message lost to a broker outage costs only
time, because the sweeper (`alerts.sweeping`) dispatches whatever stays `received` again.

Messages are sent by the tasks' registered names, which are a contract (messages in flight,
CELERY_TASK_ROUTES, the beat schedule): `alerts.tasks` registers its tasks under these names
and calls these services, so they do not import it back. `alerts.apps` imports the tasks in
every process, so they run in-process in the demo's eager mode too.
"""

import logging

from celery import current_app

logger = logging.getLogger(__name__)

PROCESS_ALERT = "alerts.tasks.process_alert"
PROCESS_ALERTS = "alerts.tasks.process_alerts"
DISPATCH_CHUNKS = "alerts.tasks.enqueue_alerts"
SWEEP = "alerts.tasks.sweep_alerts"

PROCESS_CHUNK = 25


def alerts_dispatch(alert_ids: list[int]) -> int:
    """Dispatch these alerts for processing with ONE message; never raises.

    One alert: its process message. Several: a message that fans out into one process message
    per PROCESS_CHUNK alerts in a worker (`alerts_dispatch_chunks`), so a 1,000-alert request
    costs the webhook one publish instead of 1,000. Returns how many alerts the published
    message covers (0 when the broker is down: the failure is logged with the count, never the
    payload, and the sweeper dispatches them again later).
    """
    if not alert_ids:
        return 0
    try:
        if len(alert_ids) == 1:
            _task(PROCESS_ALERT).apply_async((alert_ids[0],))
        else:
            _task(DISPATCH_CHUNKS).apply_async((list(alert_ids),))
    except Exception as exc:
        _log_dispatch_failure(len(alert_ids), len(alert_ids), exc)
        return 0
    return len(alert_ids)


def alerts_dispatch_chunks(alert_ids: list[int]) -> int:
    """Publish process messages of PROCESS_CHUNK alerts each over one producer; never raises.

    Fails fast on the first broker error (the settings make publishing fail within about
    a second). Returns how many alerts the published messages cover.
    """
    process_alerts = _task(PROCESS_ALERTS)
    sent = 0
    chunks = [alert_ids[i : i + PROCESS_CHUNK] for i in range(0, len(alert_ids), PROCESS_CHUNK)]
    try:
        if process_alerts.app.conf.task_always_eager:
            for chunk in chunks:
                process_alerts.apply_async((chunk,))
                sent += len(chunk)
        else:
            with process_alerts.app.producer_or_acquire() as producer:
                for chunk in chunks:
                    process_alerts.apply_async((chunk,), producer=producer)
                    sent += len(chunk)
    except Exception as exc:
        _log_dispatch_failure(len(alert_ids) - sent, len(alert_ids), exc)
    return sent


def _task(name: str):
    """The task registered under this name (a KeyError, logged as a failed dispatch, if
    `alerts.tasks` was never imported)."""
    return current_app.tasks[name]


def _log_dispatch_failure(missed: int, total: int, exc: Exception) -> None:
    logger.warning(
        "Could not enqueue %d of %d alert(s) for processing (%s: %s); "
        "the sweeper will enqueue them again.",
        missed,
        total,
        type(exc).__name__,
        exc,
    )
