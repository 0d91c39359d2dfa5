"""Writes for gateways (creation, secrets, settings, last seen) and the admission of a signed
request: the one check every transport makes before it hands a gateway's data to an ingest
service."""

import logging
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from audit.choices import AuditAction
from audit.services import audit_record, field_changes
from gateways import gateway_secrets, ratelimit, signing
from gateways.models import Gateway, GatewaySecret, Sensor
from gateways.signals import gateway_access_changed

logger = logging.getLogger(__name__)

LAST_SEEN_RESOLUTION = timedelta(minutes=1)


class GatewayRefused(Exception):
    """Unknown or disabled gateway, or a request none of its live secrets signed.

    Callers answer every reason the same way (401), so gateway ids and secrets cannot be
    probed; the reason is for the logs.
    """


class GatewayRateExceeded(Exception):
    """The gateway sent more requests this minute than it may; retry after `retry_after` s."""

    def __init__(self, *, limit: int, retry_after: int):
        super().__init__(f"Rate limit of {limit} requests per minute exceeded.")
        self.limit = limit
        self.retry_after = retry_after


# --- gateways and secrets -------------------------------------------------------------


def _secret_add(gateway: Gateway, *, by, action: str, changes: dict) -> str:
    """A new live secret for the gateway, audited with its fingerprint (never the secret)."""
    plaintext = gateway_secrets.generate()
    fingerprint = gateway_secrets.fingerprint(plaintext)
    GatewaySecret.objects.create(
        gateway=gateway, encrypted=gateway_secrets.encrypt(plaintext), fingerprint=fingerprint
    )
    _audit(gateway, by=by, action=action, changes={**changes, "secret_fingerprint": fingerprint})
    return plaintext


def _audit(gateway: Gateway, *, by, action: str, changes: dict) -> None:
    """An audit entry about the gateway, filed under its site."""
    audit_record(by=by, action=action, obj=gateway, site=gateway.site, changes=changes)


def _access_changed(gateway: Gateway) -> None:
    """After commit, tell the apps above that who may connect as the gateway changed (its
    broker client follows, mqtt.access); a receiver's error is logged, never the caller's."""
    gateway_id = gateway.pk
    transaction.on_commit(
        lambda: gateway_access_changed.send(sender=Gateway, gateway_id=gateway_id), robust=True
    )


@transaction.atomic
def gateway_create(
    *, site, name: str, rate_limit_per_minute: int | None = None, by=None
) -> tuple[Gateway, str]:
    """Create a gateway and its first secret; the plaintext secret is returned only here."""
    gateway = Gateway(site=site, name=name, rate_limit_per_minute=rate_limit_per_minute)
    gateway.full_clean()
    gateway.save()
    secret = _secret_add(
        gateway,
        by=by,
        action=AuditAction.GATEWAY_CREATE,
        changes={"name": name, "rate_limit_per_minute": rate_limit_per_minute},
    )
    _access_changed(gateway)
    return gateway, secret


@transaction.atomic
def gateway_rotate_secret(*, gateway: Gateway, by=None) -> str:
    """Add a new secret; older ones keep verifying until `gateway_retire_secrets`."""
    Gateway.objects.select_for_update().get(pk=gateway.pk)
    secret = _secret_add(gateway, by=by, action=AuditAction.GATEWAY_ROTATE_SECRET, changes={})
    _access_changed(gateway)
    return secret


@transaction.atomic
def gateway_retire_secrets(*, gateway: Gateway, now: datetime | None = None, by=None) -> int:
    """Retire every live secret but the newest; returns how many were retired."""
    Gateway.objects.select_for_update().get(pk=gateway.pk)
    live = GatewaySecret.objects.filter(gateway=gateway, retired_at=None).order_by(
        "-created_at", "-id"
    )
    newest = live.first()
    if newest is None:
        return 0
    older = live.exclude(pk=newest.pk)
    fingerprints = sorted(older.values_list("fingerprint", flat=True))
    retired = older.update(retired_at=now or timezone.now())
    if retired:
        _audit(
            gateway,
            by=by,
            action=AuditAction.GATEWAY_RETIRE_SECRETS,
            changes={"retired_fingerprints": fingerprints, "kept_fingerprint": newest.fingerprint},
        )
        _access_changed(gateway)
    return retired


_UPDATABLE = frozenset(
    {
        "name",
        "is_active",
        "rate_limit_per_minute",
        "asset",
        "model",
        "heartbeat_interval_seconds",
        "heartbeat_grace_seconds",
        "sparkplug_group_id",
        "sparkplug_edge_node_id",
    }
)
# What the gateway's broker client and role are made from (mqtt.access).
_ACCESS_FIELDS = frozenset({"is_active", "sparkplug_group_id", "sparkplug_edge_node_id"})


@transaction.atomic
def gateway_update(*, gateway: Gateway, by=None, **fields) -> Gateway:
    """Rename a gateway, change its rate limit, enable/disable it, link it to an asset of its
    site (the gateway as equipment), set its model and heartbeat interval and grace, or its
    Sparkplug identity (group and edge node id, both or neither)."""
    unknown = set(fields) - _UPDATABLE
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in unknown})
    before = {name: getattr(gateway, name) for name in fields}
    for name, value in fields.items():
        setattr(gateway, name, value)
    gateway.full_clean()
    if fields:
        try:
            with transaction.atomic():
                gateway.save(update_fields=list(fields))
        except IntegrityError as exc:
            # Another gateway took the same asset or Sparkplug node meanwhile (both unique).
            if "sparkplug" in str(exc):
                raise ValidationError(
                    {"sparkplug_edge_node_id": "Another gateway is this Sparkplug edge node."}
                ) from None
            raise ValidationError({"asset": "Another gateway is recorded as this asset."}) from None
    changes = field_changes(before, fields)
    if changes:
        _audit(gateway, by=by, action=AuditAction.GATEWAY_UPDATE, changes=changes)
    if _ACCESS_FIELDS & set(changes):
        _access_changed(gateway)
    return gateway


# --- sensors ---------------------------------------------------------------------------

_SENSOR_UPDATABLE = frozenset(
    {"code", "name", "measures", "unit", "asset", "is_active", "stale_after_seconds"}
)
CODE_TAKEN = "This gateway already has a sensor with this code."


def _sensor_save(sensor: Sensor, update_fields=None) -> None:
    """Validate and save; the code is unique per gateway, said on `code` (a concurrent twin
    that wins the race is the database's refusal, answered the same way)."""
    sensor.full_clean(validate_constraints=False)
    taken = Sensor.objects.filter(gateway_id=sensor.gateway_id, code=sensor.code)
    if taken.exclude(pk=sensor.pk).exists():
        raise ValidationError({"code": CODE_TAKEN})
    try:
        with transaction.atomic():
            sensor.save(update_fields=update_fields)
    except IntegrityError:
        raise ValidationError({"code": CODE_TAKEN}) from None


def _sensor_audit(sensor: Sensor, *, by, changes: dict) -> None:
    """Sensor changes are changes of its gateway's kit: audited as gateway changes, filed
    under the site, naming the sensor."""
    audit_record(
        by=by,
        action=AuditAction.GATEWAY_UPDATE,
        obj=sensor,
        site=sensor.gateway.site,
        changes={"gateway": str(sensor.gateway_id), **changes},
    )


@transaction.atomic
def sensor_create(
    *,
    gateway: Gateway,
    code: str,
    name: str = "",
    measures: str = "",
    unit: str = "",
    asset=None,
    is_active: bool = True,
    stale_after_seconds: int | None = None,
    by=None,
) -> Sensor:
    """Record a sensor behind a gateway, watching an asset of the gateway's site (or none)."""
    sensor = Sensor(
        gateway=gateway,
        code=code,
        name=name,
        measures=measures,
        unit=unit,
        asset=asset,
        is_active=is_active,
    )
    if stale_after_seconds is not None:
        sensor.stale_after_seconds = stale_after_seconds
    _sensor_save(sensor)
    _sensor_audit(
        sensor,
        by=by,
        changes={
            "sensor_created": sensor.code,
            "asset": sensor.asset_id,
            "measures": sensor.measures,
        },
    )
    return sensor


@transaction.atomic
def sensor_update(*, sensor: Sensor, by=None, **fields) -> Sensor:
    """Rename or recode a sensor, say what it measures, point it at another asset of its site,
    change when it counts as stale, or (de)activate it. It stays behind its gateway."""
    unknown = set(fields) - _SENSOR_UPDATABLE
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in unknown})
    before = {name: getattr(sensor, name) for name in fields}
    for name, value in fields.items():
        setattr(sensor, name, value)
    if fields:
        _sensor_save(sensor, update_fields=list(fields))
    changes = field_changes(before, fields)
    if changes:
        _sensor_audit(sensor, by=by, changes=changes)
    return sensor


@transaction.atomic
def gateway_set_active(*, gateway: Gateway, is_active: bool, by=None) -> Gateway:
    """Enable or disable a gateway; a disabled gateway's requests answer 401."""
    changed = (
        Gateway.objects.filter(pk=gateway.pk)
        .exclude(is_active=is_active)
        .update(is_active=is_active)
    )
    gateway.is_active = is_active
    if changed:
        action = AuditAction.GATEWAY_ENABLE if is_active else AuditAction.GATEWAY_DISABLE
        audit_record(by=by, action=action, obj=gateway, site=gateway.site)
        _access_changed(gateway)
    return gateway


def gateway_for_webhook(gateway_id: str) -> tuple[Gateway | None, list[bytes]]:
    """The active gateway and its live HMAC keys, in one query; (None, []) if unknown."""
    try:
        pk = uuid.UUID(gateway_id)
    except ValueError:
        return None, []
    # Every webhook request starts here, so it is one hand-written statement (a third of what
    # the equivalent select_related query costs to build); the gateway comes back with only
    # the fields the webhook uses loaded, the others deferred.
    rows = list(
        Gateway.objects.raw(
            f"SELECT g.id, g.site_id, g.is_active, g.rate_limit_per_minute, g.last_seen_at, "  # noqa: S608
            f"s.encrypted, s.fingerprint FROM {GatewaySecret._meta.db_table} s "
            f"JOIN {Gateway._meta.db_table} g ON g.id = s.gateway_id "
            "WHERE s.gateway_id = %s AND s.retired_at IS NULL AND g.is_active",
            [Gateway._meta.pk.get_db_prep_value(pk, connection)],
        )
    )
    if not rows:
        return None, []
    keys = []
    for row in rows:
        # The secret columns are not the gateway's: take them off the instance.
        encrypted, fingerprint = row.__dict__.pop("encrypted"), row.__dict__.pop("fingerprint")
        try:
            keys.append(gateway_secrets.key_bytes(gateway_secrets.decrypt(encrypted)))
        except gateway_secrets.SecretUnreadable:
            logger.error("Secret %s of gateway %s cannot be decrypted.", fingerprint, pk)
    return rows[0], keys


def gateway_touch(*, gateway: Gateway, now: datetime) -> None:
    """Record that the gateway was seen, at most once a minute (one cheap UPDATE)."""
    if gateway.last_seen_at is None or now - gateway.last_seen_at >= LAST_SEEN_RESOLUTION:
        Gateway.objects.filter(pk=gateway.pk).update(last_seen_at=now)
        gateway.last_seen_at = now


# --- admission of a signed request ------------------------------------------------------


def gateway_authenticate(*, gateway_id: str, headers: Mapping[str, str], body: bytes) -> Gateway:
    """The active gateway whose live secret signed `body` (Standard Webhooks `headers`: lower-case
    webhook-id, webhook-timestamp, webhook-signature); raises GatewayRefused.

    A database failure (OperationalError, InterfaceError) propagates: it is no refusal.
    """
    gateway, keys = gateway_for_webhook(gateway_id)
    if gateway is None:
        logger.info("Webhook refused: unknown or disabled gateway %.64s.", gateway_id)
        raise GatewayRefused("unknown or disabled gateway")
    try:
        signing.verify(keys=keys, headers=headers, body=body)
    except signing.VerificationError as exc:
        logger.info("Webhook refused for gateway %s: %s.", gateway.pk, exc)
        raise GatewayRefused(str(exc)) from None
    return gateway


def gateway_check_rate(*, gateway: Gateway) -> None:
    """Count one request of the gateway; raises GatewayRateExceeded beyond its rate."""
    limit = gateway.effective_rate_limit
    retry_after = ratelimit.check(str(gateway.pk), limit)
    if retry_after is not None:
        raise GatewayRateExceeded(limit=limit, retry_after=retry_after)


def gateway_admit(*, gateway_id: str, headers: Mapping[str, str], body: bytes) -> Gateway:
    """Authenticate a signed request, then count it against the gateway's rate: what every
    transport does before handing the gateway's data to an ingest service."""
    gateway = gateway_authenticate(gateway_id=gateway_id, headers=headers, body=body)
    gateway_check_rate(gateway=gateway)
    return gateway
