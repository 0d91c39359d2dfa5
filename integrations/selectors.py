"""Reads of the integrations app: which endpoints get an event, and may still get it."""

from django.contrib.auth import get_user_model
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q

from integrations.choices import EventType
from integrations.models import Delivery, WebhookEndpoint


def _owner_sees(site_id: int | None) -> Q:
    """The endpoint's owner may see the site now (superusers see every site; an event of no
    site only they)."""
    if site_id is None:
        return Q(owner__is_superuser=True)
    memberships = get_user_model().sites.through.objects.filter(
        user_id=OuterRef("owner_id"), site_id=site_id
    )
    return Q(owner__is_superuser=True) | Q(Exists(memberships))


def _scope_matches(site_id: int | None) -> Q:
    """The endpoint names no site (every site its owner sees) or names this one."""
    scoped = WebhookEndpoint.sites.through.objects.filter(webhookendpoint_id=OuterRef("pk"))
    any_site = ~Q(Exists(scoped))
    if site_id is None:
        return any_site
    return any_site | Q(Exists(scoped.filter(site_id=site_id)))


def endpoint_ids_by_type(*, site_id: int | None) -> dict[str, list[int]]:
    """For each event type, the enabled endpoints subscribed to it that may receive an event
    of `site_id`, in one query (the table is small; subscriptions are read from the fetched
    lists, which any database can do)."""
    rows = (
        WebhookEndpoint.objects.filter(enabled=True, owner__is_active=True)
        .filter(_owner_sees(site_id), _scope_matches(site_id))
        .values_list("id", "event_types")
    )
    wanted: dict[str, list[int]] = {}
    for pk, types in rows:
        for type in types:
            wanted.setdefault(type, []).append(pk)
    return wanted


def endpoints_want(*, type: str, site_ids: set[int | None]) -> bool:
    """Whether any endpoint wants `type` at one of the sites (bulk paths ask before they read
    back what an event would carry)."""
    return any(type in endpoint_ids_by_type(site_id=site_id) for site_id in site_ids)


def delivery_to_send(*, delivery_id: int) -> Delivery | None:
    """The delivery with its event and endpoint, and `may_receive`: whether the endpoint's
    owner may still see the event's site and the site is still in its scope, in one query (a
    test event, of no site, skips that check). None when it is gone (endpoint deleted)."""
    site_id = OuterRef("event__site_id")
    memberships = get_user_model().sites.through.objects.filter(
        user_id=OuterRef("endpoint__owner_id"), site_id=site_id
    )
    scoped = WebhookEndpoint.sites.through.objects.filter(
        webhookendpoint_id=OuterRef("endpoint_id")
    )
    owner_sees = Q(endpoint__owner__is_superuser=True) | Q(Exists(memberships))
    in_scope = ~Q(Exists(scoped)) | Q(Exists(scoped.filter(site_id=site_id)))
    return (
        Delivery.objects.select_related("event", "endpoint", "endpoint__owner")
        .annotate(
            may_receive=ExpressionWrapper(
                Q(event__type=EventType.TEST) | (owner_sees & in_scope),
                output_field=BooleanField(),
            )
        )
        .filter(pk=delivery_id)
        .first()
    )


def delivery_refusal(delivery: Delivery) -> str:
    """Why the endpoint may not receive this delivery now ("" when it may): it was disabled,
    its owner deactivated or moved off the event's site, or the site left its scope. Reads
    what `delivery_to_send` loaded."""
    endpoint = delivery.endpoint
    if not endpoint.enabled:
        return "The endpoint is disabled."
    if not endpoint.owner.is_active:
        return "The endpoint's owner is deactivated."
    if not delivery.may_receive:
        return "The endpoint's owner may no longer see the event's site."
    return ""


def deliveries_of(endpoint: WebhookEndpoint):
    """An endpoint's delivery log, newest first, with its event and attempts."""
    return (
        Delivery.objects.filter(endpoint=endpoint)
        .select_related("event")
        .prefetch_related("attempts_log")
        .order_by("-id")
    )
