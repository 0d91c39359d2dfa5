"""What makes the sync exact underneath the API: `updated_at` moves on every write path (the
triggers of sync/triggers.py), tombstones are written with the delete and pruned after the
retention (docs/sync.md)."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import update_last_login
from django.db import connection, transaction
from django.utils import timezone

from alerts.models import Alert
from assets.models import MeterReading
from cmms.celery import app as celery_app
from sync import receivers, triggers
from sync.models import Tombstone
from sync.services import tombstones_prune
from sync.tasks import prune_tombstones
from tests.factories import (
    AssetFactory,
    GatewayFactory,
    MeterFactory,
    PartFactory,
    PMPlanFactory,
    StockFactory,
    StoreroomFactory,
    TechnicianFactory,
    WorkOrderFactory,
)

pytestmark = pytest.mark.django_db

STAMPED = triggers.touched_models(receivers.synced_models())


def test_the_models_an_integrator_syncs_all_carry_updated_at():
    labels = {model._meta.label for model in STAMPED}
    assert labels == {
        "accounts.User",
        "alerts.Alert",
        "assets.Asset",
        "assets.Part",
        "assets.Stock",
        "pm.PMPlan",
        "workorders.WorkOrder",
    }


def _alert(site):
    return Alert.objects.create(
        gateway=GatewayFactory(site=site),
        site=site,
        alert_id="a-1",
        asset_tag="P-1",
        condition="vibration",
        severity="major",
        observed_at=timezone.now(),
        content_hash="x",
    )


BUILDERS = {
    "accounts.User": lambda site: TechnicianFactory(sites=[site]),
    "alerts.Alert": _alert,
    "assets.Asset": lambda site: AssetFactory(site=site),
    "assets.Part": lambda site: PartFactory(),
    "assets.Stock": lambda site: StockFactory(storeroom=StoreroomFactory(site=site)),
    "pm.PMPlan": lambda site: PMPlanFactory(site=site),
    "workorders.WorkOrder": lambda site: WorkOrderFactory(site=site),
}


def test_every_stamped_model_has_a_row_builder_here():
    assert set(BUILDERS) == {model._meta.label for model in STAMPED}


@pytest.mark.parametrize("label", sorted(BUILDERS))
def test_an_update_that_forgets_updated_at_still_moves_it(label, site):
    """Any write path (`QuerySet.update`, `save(update_fields=...)`, raw SQL) moves the row:
    here raw SQL that changes nothing but the row's version."""
    row = BUILDERS[label](site)
    model = type(row)
    before = model.objects.filter(pk=row.pk).values_list("updated_at", flat=True).get()
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET id = id WHERE id = %s", [row.pk])
    after = model.objects.filter(pk=row.pk).values_list("updated_at", flat=True).get()
    assert after != before


def test_a_login_moves_the_users_updated_at(site, client):
    user = TechnicianFactory(sites=[site])
    user.set_password("a long enough passphrase")
    user.save()
    before = type(user).objects.values_list("updated_at", flat=True).get(pk=user.pk)
    update_last_login(None, user)  # save(update_fields=["last_login"]): no auto_now
    after = type(user).objects.values_list("updated_at", flat=True).get(pk=user.pk)
    assert after != before


def test_a_queryset_update_moves_updated_at_of_every_row_it_touches(site):
    stock = StockFactory(storeroom=StoreroomFactory(site=site))
    before = stock.updated_at
    type(stock).objects.filter(pk=stock.pk).update(bin="B-7")
    stock.refresh_from_db()
    assert stock.updated_at != before


def test_a_rolled_back_delete_leaves_no_tombstone():
    part = PartFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        part.delete()
        raise RuntimeError("the request failed after the delete")
    assert not Tombstone.objects.exists()


def test_a_queryset_delete_leaves_a_tombstone_per_deleted_row(site):
    storeroom = StoreroomFactory(site=site)
    first, second = StockFactory(storeroom=storeroom), StockFactory(storeroom=storeroom)
    expected = {("stock", first.pk, site.pk), ("stock", second.pk, site.pk)}
    expected.add(("storerooms", storeroom.pk, site.pk))
    type(first).objects.filter(storeroom=storeroom).delete()
    storeroom.delete()
    assert set(Tombstone.objects.values_list("resource", "object_id", "site")) == expected


def test_a_cascade_from_a_parent_leaves_tombstones_of_its_children(site, planner):
    asset = AssetFactory(site=site)
    meter = MeterFactory(asset=asset)
    readings = [
        MeterReading.objects.create(meter=meter, value=v, observed_at=timezone.now()).pk
        for v in (1, 2)
    ]
    meter.delete()  # readings go with their meter (CASCADE)
    assert set(Tombstone.objects.values_list("resource", "object_id", "site")) == {
        ("meter-readings", pk, site.pk) for pk in readings
    }


def test_tombstones_are_kept_for_the_retention_then_pruned(settings):
    settings.SYNC_TOMBSTONE_RETENTION_DAYS = 90
    now = timezone.now()
    old = Tombstone.objects.create(resource="parts", object_id=1, deleted_at=now - timedelta(91))
    kept = Tombstone.objects.create(resource="parts", object_id=2, deleted_at=now - timedelta(89))
    assert tombstones_prune(now=now) == 1
    assert list(Tombstone.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not Tombstone.objects.filter(pk=old.pk).exists()


def test_the_prune_task_runs_on_beat_in_the_housekeeping_queue(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "sync.tasks.prune_tombstones" in tasks
    assert "sync.tasks.prune_tombstones" in celery_app.tasks
    route = celery_app.amqp.router.route({}, "sync.tasks.prune_tombstones")
    assert route["queue"].name == "housekeeping"


def test_the_prune_task_prunes(settings):
    settings.SYNC_TOMBSTONE_RETENTION_DAYS = 1
    long_ago = timezone.now() - timedelta(days=2)
    Tombstone.objects.create(resource="parts", object_id=1, deleted_at=long_ago)
    assert prune_tombstones() == 1
