"""Tombstones for every delete path, and the `updated_at` triggers after every migrate.

Why signals here, against the house rule: a row of a synced model can disappear through a
service, the API, the admin's delete action, a queryset `.delete()` or a cascade from its parent
(a storeroom's stock). Only Django's delete collector sees all of them, and it sends these
signals inside the delete's own transaction, so a tombstone exists exactly when the delete
commits. The receivers are infrastructure (they record that a row went), not business logic.

A model takes part by naming its API resource in `sync_resource`. The receivers are connected
per model (never for every sender), so the collector keeps its fast path for other models.
The site(s) of a tombstone come from the model's `tombstone_site_ids()` when it has one, else
from its `site_lookup` (the one every site-scoped model declares), else none (global).
"""

from django.apps import apps
from django.db.models.signals import post_delete, post_migrate, pre_delete

from sync import triggers
from sync.models import Tombstone


def synced_models() -> list:
    """Every installed model that declares `sync_resource`."""
    return [model for model in apps.get_models() if getattr(model, "sync_resource", None)]


def connect(config) -> None:
    """Per synced model, the delete receivers; once per migrate (after every app's
    migrations, as `post_migrate` for this app), the triggers."""
    for model in synced_models():
        pre_delete.connect(note_sites, sender=model, dispatch_uid=f"sync-sites-{model._meta.label}")
        post_delete.connect(bury, sender=model, dispatch_uid=f"sync-bury-{model._meta.label}")
    post_migrate.connect(install_triggers, sender=config, dispatch_uid="sync-install-triggers")


def site_ids_of(instance) -> list[int | None]:
    """The sites whose people could see `instance`: one tombstone each ([None]: global)."""
    if hasattr(instance, "tombstone_site_ids"):
        return instance.tombstone_site_ids() or [None]
    lookup = getattr(instance, "site_lookup", None)
    if not lookup:
        return [None]
    *path, last = lookup.split("__")
    row = instance
    for part in path:
        row = getattr(row, part)
    return [getattr(row, f"{last}_id")]


def note_sites(sender, instance, **kwargs):
    """Before the delete, while its parents and memberships still exist: where it was seen."""
    instance._tombstone_site_ids = site_ids_of(instance)


def bury(sender, instance, **kwargs):
    """In the delete's transaction: one tombstone per site the row was seen at."""
    site_ids = getattr(instance, "_tombstone_site_ids", None) or [None]
    Tombstone.objects.bulk_create(
        Tombstone(resource=sender.sync_resource, object_id=instance.pk, site_id=site_id)
        for site_id in site_ids
    )


def install_triggers(using, **kwargs):
    """(Re)install the `updated_at` triggers after every migrate: idempotent, and SQLite drops
    a table's triggers whenever a migration rebuilds the table."""
    triggers.install(using=using, models=synced_models())
