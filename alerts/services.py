"""Writes for alerts: ingestion (the webhook's hot path), outbox, triage."""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from alerts.choices import AlertStatus, ResultStatus
from alerts.models import Alert
from alerts.schema import AlertIn
from assets.models import Asset
from audit.choices import AuditAction
from audit.services import audit_record
from gateways.models import Gateway

logger = logging.getLogger(__name__)


class IngestRaced(Exception):
    """A conflicting row vanished between INSERT and SELECT (a concurrent rollback); retry."""


# --- ingestion ----------------------------------------------------------------------------


@dataclass
class IngestResult:
    results: list[dict] = field(default_factory=list)
    counts: dict[str, int] = field(
        default_factory=lambda: {status: 0 for status in ResultStatus.values}
    )

    def as_json(self) -> dict:
        return {
            "accepted": self.counts[ResultStatus.ACCEPTED],
            "duplicates": self.counts[ResultStatus.DUPLICATE],
            "conflicts": self.counts[ResultStatus.CONFLICT],
            "unmatched": self.counts[ResultStatus.UNMATCHED],
            "results": self.results,
        }


# Columns a request supplies; `asset` and `status` come from the asset lookup in the INSERT.
_VALUE_FIELDS = (
    "gateway",
    "site",
    "alert_id",
    "asset_tag",
    "condition",
    "severity",
    "state",
    "observed_at",
    "received_at",
    "value",
    "unit",
    "threshold",
    "message",
    "attributes",
    "content_hash",
    "error",
    "attempts",
)


def _cast_type(field) -> str:
    """The column's type for a CAST; text for varchar(n), which a CAST would silently cut
    where the INSERT refuses an overlong value."""
    db_type = field.db_type(connection)
    return "text" if db_type.startswith("varchar") else db_type


def _insert_new(rows: list[dict]) -> dict[str, tuple[int, int | None]]:
    """Store the rows that are new, matching asset tags to the site's assets in the same
    statement: INSERT ... SELECT FROM (VALUES ...) LEFT JOIN asset ... ON CONFLICT (gateway_id,
    alert_id) DO NOTHING RETURNING. Returns {alert_id: (id, asset id or None)} of the new rows.

    One statement and one round trip for the whole batch, on PostgreSQL and SQLite alike (the
    VALUES columns are column1, column2, ... on both; PostgreSQL needs their types spelled out).
    """
    fields = [Alert._meta.get_field(name) for name in _VALUE_FIELDS]
    qn = connection.ops.quote_name
    if connection.vendor == "postgresql":
        typed = [f"CAST(v.column{i} AS {_cast_type(f)})" for i, f in enumerate(fields, 1)]
    else:
        typed = [f"v.column{i}" for i in range(1, len(fields) + 1)]
    site, tag = (typed[_VALUE_FIELDS.index(name)] for name in ("site", "asset_tag"))
    placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    params = [AlertStatus.UNMATCHED, AlertStatus.RECEIVED]  # the CASE comes before VALUES
    params += [f.get_db_prep_save(row[f.name], connection) for row in rows for f in fields]
    asset = Asset._meta
    # Only quoted identifiers, column types and placeholders are formatted in; values are
    # parameters. "WHERE 1 = 1" tells SQLite's parser the join ends before ON CONFLICT.
    sql = (
        f"INSERT INTO {qn(Alert._meta.db_table)} "  # noqa: S608
        f"({', '.join(qn(f.column) for f in fields)}, {qn('asset_id')}, {qn('status')}) "
        f"SELECT {', '.join(typed)}, a.{qn('id')}, "
        f"CASE WHEN a.{qn('id')} IS NULL THEN %s ELSE %s END "
        f"FROM (VALUES {', '.join([placeholder] * len(rows))}) AS v "
        f"LEFT JOIN {qn(asset.db_table)} a "
        f"ON a.{qn('site_id')} = {site} AND a.{qn('tag')} = {tag} WHERE 1 = 1 "
        f"ON CONFLICT ({qn('gateway_id')}, {qn('alert_id')}) DO NOTHING "
        f"RETURNING {qn('id')}, {qn('alert_id')}, {qn('asset_id')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {alert_id: (pk, asset_id) for pk, alert_id, asset_id in cursor.fetchall()}


def alerts_ingest(
    *, gateway: Gateway, alerts: list[AlertIn], now: datetime | None = None
) -> IngestResult:
    """Store a request's alerts once per (gateway, alert_id), in one transaction.

    Queries: one INSERT for all new rows (matching asset tags on the way), and one SELECT
    for the alert ids that already existed (to tell duplicates from conflicts). The unique
    constraint, not the lookup, decides which delivery wins under concurrency. New
    matched alerts are enqueued for processing after commit.
    """
    now = now or timezone.now()
    first_index: dict[str, int] = {}
    for index, alert in enumerate(alerts):
        first_index.setdefault(alert.alert_id, index)
    unique = [alerts[i] for i in first_index.values()]

    with transaction.atomic():
        rows = []
        for alert in unique:
            rows.append(
                {
                    "gateway": gateway.pk,
                    "site": gateway.site_id,
                    "alert_id": alert.alert_id,
                    "asset_tag": alert.asset_tag,
                    "condition": alert.condition,
                    "severity": alert.severity,
                    "state": alert.state,
                    "observed_at": alert.observed_at,
                    "received_at": now,
                    "value": alert.value,
                    "unit": alert.unit,
                    "threshold": alert.threshold,
                    "message": alert.message,
                    "attributes": alert.attributes,
                    "content_hash": alert.content_hash,
                    "error": "",
                    "attempts": 0,
                }
            )
        inserted = _insert_new(rows)
        missing = [alert.alert_id for alert in unique if alert.alert_id not in inserted]
        existing: dict[str, tuple[int, str]] = {}
        if missing:
            existing = {
                alert_id: (pk, content_hash)
                for alert_id, pk, content_hash in Alert.objects.filter(
                    gateway_id=gateway.pk, alert_id__in=missing
                ).values_list("alert_id", "id", "content_hash")
            }
            if len(existing) != len(missing):
                raise IngestRaced("A conflicting alert disappeared; retry the request.")

        result = IngestResult()
        to_enqueue = []
        for index, alert in enumerate(alerts):
            new_id, asset_id = inserted.get(alert.alert_id, (None, None))
            if new_id is not None and first_index[alert.alert_id] == index:
                if asset_id is not None:
                    status = ResultStatus.ACCEPTED
                    to_enqueue.append(new_id)
                else:
                    status = ResultStatus.UNMATCHED
                pk = new_id
            else:
                if new_id is not None:
                    pk, stored_hash = new_id, alerts[first_index[alert.alert_id]].content_hash
                else:
                    pk, stored_hash = existing[alert.alert_id]
                same = stored_hash == alert.content_hash
                status = ResultStatus.DUPLICATE if same else ResultStatus.CONFLICT
            result.counts[status] += 1
            result.results.append({"alert_id": alert.alert_id, "id": pk, "status": status.value})
        if to_enqueue:
            transaction.on_commit(partial(alerts_enqueue, to_enqueue))
    return result


# --- outbox -------------------------------------------------------------------------------


def alerts_enqueue(alert_ids: list[int]) -> int:
    """Enqueue processing of these alerts with ONE message; never raises.

    One alert: its process_alert task. Several: an enqueue_alerts task that fans out into
    one process_alert per alert in a worker, so a 1,000-alert request costs the webhook
    one publish instead of 1,000. Returns how many alerts the published message covers
    (0 when the broker is down: the failure is logged with the count, never the payload,
    and the sweeper enqueues them again later).
    """
    if not alert_ids:
        return 0
    from alerts.tasks import enqueue_alerts, process_alert

    try:
        if len(alert_ids) == 1:
            process_alert.apply_async((alert_ids[0],))
        else:
            enqueue_alerts.apply_async((list(alert_ids),))
    except Exception as exc:
        _log_enqueue_failure(len(alert_ids), len(alert_ids), exc)
        return 0
    return len(alert_ids)


PROCESS_CHUNK = 25


def alerts_publish(alert_ids: list[int]) -> int:
    """Publish process_alerts messages of PROCESS_CHUNK alerts each over one producer;
    never raises.

    Fails fast on the first broker error (the settings make publishing fail within about
    a second). Returns how many alerts the published messages cover.
    """
    from alerts.tasks import process_alerts

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
        _log_enqueue_failure(len(alert_ids) - sent, len(alert_ids), exc)
    return sent


def _log_enqueue_failure(missed: int, total: int, exc: Exception) -> None:
    logger.warning(
        "Could not enqueue %d of %d alert(s) for processing (%s: %s); "
        "the sweeper will enqueue them again.",
        missed,
        total,
        type(exc).__name__,
        exc,
    )


def alerts_sweep(
    *, now: datetime | None = None, grace_seconds: int | None = None, limit: int | None = None
) -> int:
    """Enqueue again a bounded batch of alerts stuck in the outbox, oldest first.

    Due: `received` for longer than the grace period, and `failed` whose next attempt is
    due. Rows are claimed with SKIP LOCKED and pushed one grace period ahead, so
    concurrent sweepers and the next runs do not enqueue them again meanwhile.
    Returns how many alerts were claimed.
    """
    now = now or timezone.now()
    grace = timedelta(
        seconds=settings.ALERT_SWEEP_GRACE_SECONDS if grace_seconds is None else grace_seconds
    )
    limit = limit or settings.ALERT_SWEEP_BATCH_SIZE
    due = (
        Q(status=AlertStatus.RECEIVED, received_at__lte=now - grace)
        & (Q(next_attempt_at=None) | Q(next_attempt_at__lte=now))
    ) | Q(status=AlertStatus.FAILED, next_attempt_at__lte=now)
    with transaction.atomic():
        ids = list(
            Alert.objects.filter(due)
            .order_by("received_at", "id")
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)[:limit]
        )
        if ids:
            Alert.objects.filter(id__in=ids).update(next_attempt_at=now + grace)
            transaction.on_commit(partial(alerts_enqueue, ids))
    return len(ids)


# --- triage -------------------------------------------------------------------------------


def alerts_map_to_asset(*, alerts, asset: Asset, by=None) -> int:
    """Attach unmatched alerts to an asset of their site and send them through processing.

    `alerts` is a queryset; alerts of another site than the asset's are refused. The audit
    trail records who mapped which alerts (one entry on the asset). Returns how many alerts
    were mapped.
    """
    with transaction.atomic():
        rows = list(
            alerts.filter(status=AlertStatus.UNMATCHED)
            .select_for_update()
            .values_list("id", "site_id")
        )
        if any(site_id != asset.site_id for _, site_id in rows):
            raise ValidationError({"asset": "The asset belongs to another site than the alerts."})
        ids = [pk for pk, _ in rows]
        if not ids:
            return 0
        Alert.objects.filter(id__in=ids).update(
            asset=asset, status=AlertStatus.RECEIVED, error="", next_attempt_at=None
        )
        audit_record(
            by=by,
            action=AuditAction.ALERTS_MAP,
            obj=asset,
            site=asset.site,
            changes={"alerts": sorted(ids), "count": len(ids)},
        )
        transaction.on_commit(partial(alerts_enqueue, ids))
    return len(ids)
