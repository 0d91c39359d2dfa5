"""Writes of the integrations app: endpoints (with their secret) and emitting events.

Emitting is the outbox: callers call `event_emit` inside their own transaction, so a committed
change has its deliveries stored (even with the broker down) and a rolled-back one has none.
"""

from dataclasses import dataclass
from functools import partial

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cmms import whsec
from integrations import dispatch, selectors
from integrations.choices import SUBSCRIBABLE, EventType
from integrations.models import Delivery, Event, WebhookEndpoint
from integrations.urlguard import UrlRefused, check_url

# The label of endpoint secrets' encryption (cmms.whsec); changing it loses every secret.
SECRET_LABEL = b"cmms.integrations.endpoint-secret.v1"


def endpoint_secret(endpoint: WebhookEndpoint) -> str:
    """The endpoint's whsec_ secret, for signing (never shown after it was issued)."""
    return whsec.decrypt(endpoint.secret_encrypted, label=SECRET_LABEL)


def _set_secret(endpoint: WebhookEndpoint) -> str:
    secret = whsec.generate()
    endpoint.secret_encrypted = whsec.encrypt(secret, label=SECRET_LABEL)
    endpoint.secret_fingerprint = whsec.fingerprint(secret)
    return secret


def _check(*, owner, url=None, event_types=None, sites=None) -> None:
    """Refuse (ValidationError naming the field) what an endpoint may not hold."""
    if url is not None:
        try:
            check_url(url)
        except UrlRefused as exc:
            raise ValidationError({"url": str(exc)}) from None
    if event_types is not None:
        unknown = sorted({str(t) for t in event_types} - set(SUBSCRIBABLE))
        if not event_types or unknown:
            allowed = ", ".join(SUBSCRIBABLE)
            raise ValidationError(
                {"event_types": f"Choose one or more of {allowed}; unknown: {unknown or 'none'}."}
            )
    if sites is not None and not owner.is_superuser:
        mine = set(owner.sites.values_list("id", flat=True))
        foreign = sorted(site.pk for site in sites if site.pk not in mine)
        if foreign:
            raise ValidationError({"sites": f"You may not choose the sites {foreign}."})


@transaction.atomic
def endpoint_create(
    *, owner, url: str, event_types: list[str], sites=(), description: str = "", enabled=True
) -> tuple[WebhookEndpoint, str]:
    """Subscribe `url` to `event_types`; returns the endpoint and its secret (shown once)."""
    sites = list(sites)
    _check(owner=owner, url=url, event_types=event_types, sites=sites)
    endpoint = WebhookEndpoint(
        owner=owner,
        url=url,
        description=description,
        event_types=sorted(set(event_types)),
        enabled=enabled,
    )
    secret = _set_secret(endpoint)
    endpoint.save()
    endpoint.sites.set(sites)
    return endpoint, secret


@transaction.atomic
def endpoint_update(*, endpoint: WebhookEndpoint, **fields) -> WebhookEndpoint:
    """Change an endpoint; enabling a disabled one starts its health afresh."""
    sites = fields.pop("sites", None)
    _check(
        owner=endpoint.owner,
        url=fields.get("url"),
        event_types=fields.get("event_types"),
        sites=sites,
    )
    if "event_types" in fields:
        fields["event_types"] = sorted(set(fields["event_types"]))
    if fields.get("enabled") and not endpoint.enabled:
        endpoint.failing_since = endpoint.disabled_at = None
        endpoint.disabled_reason = ""
    for name, value in fields.items():
        setattr(endpoint, name, value)
    endpoint.save()
    if sites is not None:
        endpoint.sites.set(sites)
    return endpoint


def endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> str:
    """Issue a new secret (returned once); deliveries from now on are signed with it."""
    secret = _set_secret(endpoint)
    endpoint.save(update_fields=["secret_encrypted", "secret_fingerprint", "updated_at"])
    return secret


@dataclass(frozen=True)
class EventItem:
    """One change to announce: its type, site, subject (the ordering key) and data."""

    type: str
    site_id: int | None
    subject: str
    data: dict


def event_emit(*, type: str, site_id: int | None, subject: str, data: dict) -> Event | None:
    """Announce one change to the endpoints that want it; call inside the change's
    transaction. Nothing is written when no endpoint wants it (one small SELECT)."""
    events = events_emit_many(items=[EventItem(type, site_id, subject, data)])
    return events[0] if events else None


def events_emit_many(*, items: list[EventItem]) -> list[Event]:
    """`event_emit` for several changes (bulk paths, or two types of one change): one SELECT
    per site whatever the types, then one INSERT of the events and one of their deliveries,
    queued after commit. Items of one subject keep their order."""
    wanted = {
        site_id: selectors.endpoint_ids_by_type(site_id=site_id)
        for site_id in {item.site_id for item in items}
    }
    items = [item for item in items if wanted[item.site_id].get(item.type)]
    if not items:
        return []
    now = timezone.now()
    events = Event.objects.bulk_create(
        Event(type=i.type, site_id=i.site_id, subject=i.subject, payload=i.data, occurred_at=now)
        for i in items
    )
    deliveries = Delivery.objects.bulk_create(
        Delivery(
            event=event,
            endpoint_id=endpoint_id,
            subject=event.subject,
            next_attempt_at=now,
            enqueued_at=now,
        )
        for event in events
        for endpoint_id in wanted[event.site_id][event.type]
    )
    transaction.on_commit(partial(dispatch.deliveries_enqueue, [d.pk for d in deliveries]))
    return events


@transaction.atomic
def endpoint_send_test(*, endpoint: WebhookEndpoint) -> Delivery:
    """Send a `test` event to one endpoint, whatever it subscribes to (admin: check a
    receiver and its signature check)."""
    now = timezone.now()
    event = Event.objects.create(
        type=EventType.TEST,
        site=None,
        subject=f"test:{endpoint.pk}",
        payload={"endpoint_id": endpoint.pk, "message": "A test event from the CMMS."},
        occurred_at=now,
    )
    delivery = Delivery.objects.create(
        event=event,
        endpoint=endpoint,
        subject=event.subject,
        next_attempt_at=now,
        enqueued_at=now,
    )
    transaction.on_commit(partial(dispatch.deliveries_enqueue, [delivery.pk]))
    return delivery
