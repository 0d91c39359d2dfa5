"""Writes for alerts: ingestion (the webhook's hot path), outbox, triage."""

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from alerts.choices import AlertStatus, ResultStatus
from alerts.dispatch import alerts_dispatch
from alerts.models import Alert
from alerts.schema import AlertIn
from assets.models import Asset
from audit.choices import AuditAction
from audit.services import audit_record
from gateways.models import Gateway
from monitoring.choices import MeasurementSource
from monitoring.services import MeasurementIn, measurements_record

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

    Queries: one INSERT for all new rows (matching asset tags on the way), one SELECT for the
    alert ids that already existed (to tell duplicates from conflicts), and one INSERT of the
    measurements the new matched alerts carry (when any has a value). The unique
    constraint, not the lookup, decides which delivery wins under concurrency. New
    matched alerts are dispatched for processing after commit.
    """
    now = now or timezone.now()
    first_index: dict[str, int] = {}
    for index, alert in enumerate(alerts):
        first_index.setdefault(alert.alert_id, index)
    unique = [alerts[i] for i in first_index.values()]

    with transaction.atomic():
        inserted = _insert_new([_row(gateway, alert, now) for alert in unique])
        missing = [alert.alert_id for alert in unique if alert.alert_id not in inserted]
        existing = _stored_before(gateway, missing)
        measurements_record(measurements=_measurements(unique, inserted))
        result, to_dispatch = _answer(alerts, first_index, inserted, existing)
        if to_dispatch:
            transaction.on_commit(partial(alerts_dispatch, to_dispatch))
    return result


def _row(gateway: Gateway, alert: AlertIn, now: datetime) -> dict:
    """The columns of one new alert row (see _VALUE_FIELDS)."""
    return {
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


def _measurements(
    alerts: list[AlertIn], inserted: dict[str, tuple[int, int | None]]
) -> list[MeasurementIn]:
    """The values of the new alerts matched to an asset: the alert's condition is the
    measurement's name. Kept in the request's transaction, so a value is stored exactly when
    its alert is (a redelivery is a duplicate alert and brings no second value)."""
    return [
        MeasurementIn(
            asset_id=inserted[alert.alert_id][1],
            name=alert.condition,
            unit=alert.unit,
            value=alert.value,
            at=alert.observed_at,
            source=MeasurementSource.ALERT,
        )
        for alert in alerts
        if alert.value is not None and inserted.get(alert.alert_id, (None, None))[1] is not None
    ]


def _stored_before(gateway: Gateway, alert_ids: list[str]) -> dict[str, tuple[int, str]]:
    """{alert_id: (id, content hash)} of the gateway's alerts the INSERT found already stored;
    IngestRaced if one of them vanished meanwhile (a concurrent rollback)."""
    if not alert_ids:
        return {}
    existing = {
        alert_id: (pk, content_hash)
        for alert_id, pk, content_hash in Alert.objects.filter(
            gateway_id=gateway.pk, alert_id__in=alert_ids
        ).values_list("alert_id", "id", "content_hash")
    }
    if len(existing) != len(alert_ids):
        raise IngestRaced("A conflicting alert disappeared; retry the request.")
    return existing


def _answer(
    alerts: list[AlertIn],
    first_index: dict[str, int],
    inserted: dict[str, tuple[int, int | None]],
    existing: dict[str, tuple[int, str]],
) -> tuple[IngestResult, list[int]]:
    """The answer for each alert in request order, and the new matched alerts to dispatch.

    The first copy of a new alert is accepted (or unmatched: no such asset); a later copy, or
    an alert stored before, is a duplicate when its content hash is the stored one, else a
    conflict.
    """
    result = IngestResult()
    to_dispatch = []
    for index, alert in enumerate(alerts):
        new_id, asset_id = inserted.get(alert.alert_id, (None, None))
        if new_id is not None and first_index[alert.alert_id] == index:
            if asset_id is not None:
                status = ResultStatus.ACCEPTED
                to_dispatch.append(new_id)
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
    return result, to_dispatch


# --- alerts the system raises -----------------------------------------------------------


@dataclass(frozen=True)
class RaisedAlert:
    """An alert the system raises itself about an asset (an anomaly condition monitoring found):
    no gateway; `alert_id` is unique per site and says what raised it, so raising it again
    changes nothing."""

    asset: Asset
    alert_id: str
    condition: str
    severity: str
    observed_at: datetime
    value: float | None = None
    unit: str = ""
    threshold: float | None = None
    message: str = ""
    attributes: dict = field(default_factory=dict)

    def content_hash(self) -> str:
        content = {
            "alert_id": self.alert_id,
            "asset": self.asset.tag,
            "condition": self.condition,
            "severity": self.severity,
            "observed_at": self.observed_at.isoformat(),
            "value": self.value,
            "unit": self.unit,
            "threshold": self.threshold,
            "message": self.message,
            "attributes": self.attributes,
        }
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def alerts_raise(*, alerts: list[RaisedAlert], now: datetime | None = None) -> list[int]:
    """Store the alerts the system raises, each once per (site, alert_id), and dispatch the new
    ones to the same pipeline as a gateway's (rules, correlation, work orders) after commit.

    Returns the ids of the new rows; an alert raised before (by this run or a concurrent one)
    is left as it is.
    """
    now = now or timezone.now()
    new_ids = []
    with transaction.atomic():
        for raised in alerts:
            # get_or_create re-reads the row a concurrent run inserted first.
            alert, created = Alert.objects.get_or_create(
                site_id=raised.asset.site_id,
                gateway=None,
                alert_id=raised.alert_id,
                defaults={
                    "asset": raised.asset,
                    "asset_tag": raised.asset.tag,
                    "condition": raised.condition,
                    "severity": raised.severity,
                    "observed_at": raised.observed_at,
                    "received_at": now,
                    "value": raised.value,
                    "unit": raised.unit,
                    "threshold": raised.threshold,
                    "message": raised.message,
                    "attributes": raised.attributes,
                    "content_hash": raised.content_hash(),
                },
            )
            if created:
                new_ids.append(alert.pk)
        if new_ids:
            transaction.on_commit(partial(alerts_dispatch, new_ids))
    return new_ids


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
            .values_list("id", "site_id", "condition", "unit", "value", "observed_at")
        )
        if any(row[1] != asset.site_id for row in rows):
            raise ValidationError({"asset": "The asset belongs to another site than the alerts."})
        ids = [row[0] for row in rows]
        if not ids:
            return 0
        Alert.objects.filter(id__in=ids).update(
            asset=asset, status=AlertStatus.RECEIVED, error="", next_attempt_at=None
        )
        # Their values join the asset's measurements now that the asset is known.
        measurements_record(
            measurements=[
                MeasurementIn(asset.pk, condition, unit, value, at, MeasurementSource.ALERT)
                for _, _, condition, unit, value, at in rows
                if value is not None
            ]
        )
        audit_record(
            by=by,
            action=AuditAction.ALERTS_MAP,
            obj=asset,
            site=asset.site,
            changes={"alerts": sorted(ids), "count": len(ids)},
        )
        transaction.on_commit(partial(alerts_dispatch, ids))
    return len(ids)
