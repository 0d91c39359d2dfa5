"""Writing the audit trail. Call inside the transaction of the change, so both commit or
neither does."""

from django.db import models

from audit.models import AuditEntry


def _plain(value):
    """JSON-friendly form of a field value (model instances by primary key), also inside the
    lists and dicts of an inline's row changes."""
    if isinstance(value, dict):
        return {str(name): _plain(item) for name, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, models.Model):
        return value.pk if isinstance(value.pk, int) else str(value.pk)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def audit_record(
    *, by, action: str, obj: models.Model, site=None, sites=(), changes=None
) -> AuditEntry:
    """Record that `by` (a user, or None for the system) did `action` to `obj`.

    `site` is the site the object belongs to; `sites` (ids or sites) are the sites that use a
    shared object, whose planners see the entry too. `changes` maps field names to values (or
    [old, new] pairs); never pass secrets, only their fingerprints.
    """
    user = by if by is not None and getattr(by, "is_authenticated", False) else None
    entry = AuditEntry.objects.create(
        actor=user,
        actor_name=user.get_username() if user else "",
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        site=site,
        changes=_plain(changes or {}),
    )
    if sites:
        entry.sites.set(sites)
    return entry


def field_changes(before: dict, after: dict) -> dict:
    """{field: [old, new]} for the fields whose value differs."""
    return {
        name: [_plain(before.get(name)), _plain(value)]
        for name, value in after.items()
        if _plain(before.get(name)) != _plain(value)
    }
