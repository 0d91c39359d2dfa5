"""Probes for load balancers and metrics for Prometheus.

- /healthz: the process answers (no database, no broker): liveness.
- /readyz: the database answers, the broker answers (when one is configured) and, when
  READYZ_MAX_ALERT_AGE_SECONDS is set, no alert waits longer than that: readiness.
- /metrics: Prometheus text format; a bearer METRICS_TOKEN or a superuser session (the
  figures count every customer's plants, so a planner's session does not read them).
"""

import hmac
import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ops import selectors

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request):
    """The process is alive."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    """Ready for traffic: 200, or 503 with the checks that failed named in the body."""
    checks: dict[str, dict] = {}
    try:
        selectors.database_ping()
        checks["database"] = {"status": "ok"}
    except DatabaseError as exc:
        logger.warning("Readiness: database unavailable (%s).", type(exc).__name__)
        checks["database"] = {"status": "fail", "error": "database unavailable"}

    if selectors.broker_configured():
        try:
            selectors.broker_ping()
            checks["broker"] = {"status": "ok"}
        except selectors.BrokerUnavailable as exc:
            logger.warning("Readiness: broker unavailable (%s).", exc)
            checks["broker"] = {"status": "fail", "error": "broker unavailable"}
    else:
        checks["broker"] = {"status": "ok", "mode": "in-process (no broker configured)"}

    if checks["database"]["status"] == "ok":
        try:
            age = selectors.alert_backlog().oldest_age_seconds()
            limit = settings.READYZ_MAX_ALERT_AGE_SECONDS
            stale = bool(limit) and age > limit
            checks["alert_backlog"] = {
                "status": "fail" if stale else "ok",
                "oldest_unprocessed_age_seconds": round(age, 3),
                "max_age_seconds": limit or None,
            }
        except DatabaseError:
            checks["alert_backlog"] = {"status": "fail", "error": "database unavailable"}

    failed = sorted(name for name, check in checks.items() if check["status"] != "ok")
    body = {"status": "fail" if failed else "ok", "failed": failed, "checks": checks}
    return JsonResponse(body, status=503 if failed else 200)


def _may_read_metrics(request) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer "):
        return hmac.compare_digest(header.removeprefix("Bearer ").encode(), token.encode())
    user = request.user
    return bool(user.is_authenticated and user.is_superuser)


def _gauge(lines: list[str], name: str, help_text: str, samples: list[tuple[str, float]]):
    lines.append(f"# HELP {name} {help_text}")
    lines.append(f"# TYPE {name} gauge")
    for labels, value in samples:
        lines.append(f"{name}{labels} {value}")


@never_cache
@require_GET
def metrics(request):
    """Alert backlog, oldest unprocessed alert age, Celery queue lengths, open work orders."""
    if not _may_read_metrics(request):
        return HttpResponse(
            "Metrics need a bearer METRICS_TOKEN or a superuser session.\n",
            status=403,
            content_type="text/plain; charset=utf-8",
        )
    lines: list[str] = []
    backlog = selectors.alert_backlog()
    _gauge(
        lines,
        "cmms_alert_backlog",
        "Alerts not finished, by status.",
        [(f'{{status="{status}"}}', n) for status, n in backlog.counts.items()],
    )
    _gauge(
        lines,
        "cmms_alert_oldest_unprocessed_age_seconds",
        "Age of the oldest alert still received or failed (0 when none).",
        [("", float(round(backlog.oldest_age_seconds(timezone.now()), 3)))],
    )
    queues = selectors.queue_lengths()
    if queues is not None:
        _gauge(
            lines,
            "cmms_celery_queue_length",
            "Messages waiting in each Celery queue (Redis broker).",
            [(f'{{queue="{queue}"}}', n) for queue, n in queues.items()],
        )
    _gauge(
        lines,
        "cmms_work_orders_open",
        "Open work orders by priority (1 emergency .. 4 low).",
        [(f'{{priority="{p}"}}', n) for p, n in selectors.open_work_orders_by_priority().items()],
    )
    return HttpResponse(
        "\n".join(lines) + "\n", content_type="text/plain; version=0.0.4; charset=utf-8"
    )
