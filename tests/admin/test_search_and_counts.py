"""Admin search and counts at scale (issue 14 §2 and §3): a work order number is found by the
start of it on its index, words from trigram indexes; an unfiltered list of a large table is
counted from PostgreSQL's statistics, not by reading every row."""

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assets.models import Asset
from assets.search import assets_matching
from cmms.admin import EstimatedCountPaginator
from tests.factories import AssetFactory, SuperuserFactory, WorkOrderFactory
from tests.plans import indexed_plan
from workorders.models import WorkOrder
from workorders.search import number_prefix, work_orders_matching

pytestmark = pytest.mark.django_db

WORK_ORDERS = reverse("admin:workorders_workorder_changelist")
ASSETS = reverse("admin:assets_asset_changelist")


@pytest.mark.parametrize(
    ("typed", "prefix"),
    [
        ("WO-0500", "WO-0500"),
        ("wo0500", "WO-0500"),
        (" wo-12 ", "WO-12"),
        ("500", "WO-000500"),
        ("pump", None),
        ("WO-", None),
        ("\N{SUPERSCRIPT TWO}", None),
        ("\N{ARABIC-INDIC DIGIT THREE}", None),
    ],
)
def test_a_work_order_number_is_searched_by_its_start(typed, prefix):
    assert number_prefix(typed) == prefix


def found(client, url, q) -> list:
    return list(client.get(url, {"q": q}).context["cl"].result_list)


def test_the_admin_finds_work_by_number_title_description_and_asset(planner_client, plant_a):
    pump = AssetFactory(site=plant_a.site, tag="PX-77", name="Feed pump")
    by_title = WorkOrderFactory(site=plant_a.site, title="Replace gearbox seal")
    by_description = WorkOrderFactory(site=plant_a.site, description="the gearbox leaks oil")
    on_pump = WorkOrderFactory(site=plant_a.site, asset=pump, title="Noise")
    assert set(found(planner_client, WORK_ORDERS, "GEARBOX")) == {by_title, by_description}
    assert found(planner_client, WORK_ORDERS, "px-7") == [on_pump]
    assert found(planner_client, WORK_ORDERS, "feed noise") == [on_pump]
    assert found(planner_client, WORK_ORDERS, on_pump.number) == [on_pump]
    assert found(planner_client, WORK_ORDERS, str(on_pump.pk)) == [on_pump]
    prefix = on_pump.number[:-1]
    assert on_pump in found(planner_client, WORK_ORDERS, prefix)


def test_the_admin_search_does_not_reach_another_sites_work_through_its_asset(
    planner_client, plant_a, plant_b
):
    AssetFactory(site=plant_b.site, tag="ZZ-1", name="Shared name")
    foreign = WorkOrderFactory(site=plant_b.site, title="Shared name job")
    assert found(planner_client, WORK_ORDERS, "Shared") == []
    assert found(planner_client, WORK_ORDERS, foreign.number) == []


def test_the_asset_admin_finds_a_tag_by_its_start_and_a_name_by_its_words(
    planner_client, plant_a, plant_b
):
    valve = AssetFactory(site=plant_a.site, tag="V-100", name="Inlet valve")
    assert found(planner_client, ASSETS, "v-1") == [valve]
    assert found(planner_client, ASSETS, "inlet VALVE") == [valve]
    assert found(planner_client, ASSETS, "100") == []  # not the middle of a tag
    assert found(planner_client, ASSETS, plant_b.pump.tag) == []


def test_the_asset_admin_finds_a_nameplate_by_manufacturer_model_or_serial_number(
    planner_client, plant_a, plant_b
):
    pump = AssetFactory(
        site=plant_a.site,
        tag="P-300",
        name="Cooling pump",
        manufacturer="Grundfos",
        model="CR 32-2",
        serial_number="SN-98765",
    )
    AssetFactory(site=plant_b.site, tag="P-301", name="Other plant", manufacturer="Grundfos")
    assert found(planner_client, ASSETS, "grundfos") == [pump]  # not the other plant's
    assert found(planner_client, ASSETS, "cr 32") == [pump]
    assert found(planner_client, ASSETS, "98765") == [pump]
    assert found(planner_client, ASSETS, "grundfos 98765") == [pump]  # every word matches
    assert found(planner_client, ASSETS, "grundfos 11111") == []


@pytest.mark.postgresql(reason="the plan of a trigram or pattern index")
@pytest.mark.parametrize(
    ("text", "index"),
    [
        ("WO-0500", "workorders_workorder_number_"),
        ("gearbox", "work_order_title_trgm"),
        ("gearbox", "work_order_description_trgm"),
    ],
)
def test_work_order_search_is_answered_from_indexes(plant_a, text, index):
    plan = indexed_plan(
        work_orders_matching(WorkOrder.objects.all(), text, assets=Asset.objects.all())
    )
    assert index in plan, plan
    assert "Index Scan" in plan or "Bitmap" in plan, plan


@pytest.mark.postgresql(reason="the plan of a trigram index")
@pytest.mark.parametrize("index", ["asset_tag_trgm", "asset_name_trgm"])
def test_asset_search_is_answered_from_trigram_indexes(plant_a, index):
    plan = indexed_plan(assets_matching(Asset.objects.all(), "P-1"))
    assert index in plan, plan


@pytest.mark.postgresql(reason="the plan of a trigram index")
@pytest.mark.parametrize(
    "index",
    [
        "asset_tag_trgm",
        "asset_name_trgm",
        "asset_manufacturer_trgm",
        "asset_model_trgm",
        "asset_serial_number_trgm",
    ],
)
def test_the_asset_lists_search_of_nameplates_is_answered_from_trigram_indexes(plant_a, index):
    plan = indexed_plan(assets_matching(Asset.objects.all(), "CR-32", details=True))
    assert index in plan, plan


# ---------------------------------------------------------------- counts


@pytest.fixture
def counted_from_statistics(monkeypatch):
    """A table counts as large from one row; ANALYZE gives it statistics."""
    monkeypatch.setattr(EstimatedCountPaginator, "EXACT_BELOW", 1)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE workorders_workorder")


def counts(queries) -> list[str]:
    return [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]


@pytest.mark.postgresql(reason="pg_class.reltuples")
def test_an_unfiltered_large_list_is_counted_from_statistics(
    client, plant_a, counted_from_statistics
):
    client.force_login(SuperuserFactory())
    with CaptureQueriesContext(connection) as queries:
        page = client.get(WORK_ORDERS)
    assert page.status_code == 200
    assert counts(queries) == []
    assert page.context["cl"].result_count == WorkOrder.objects.count()


@pytest.mark.postgresql(reason="pg_class.reltuples")
def test_a_filtered_list_is_counted_exactly(client, plant_a, counted_from_statistics):
    client.force_login(SuperuserFactory())
    with CaptureQueriesContext(connection) as queries:
        page = client.get(WORK_ORDERS, {"status__exact": "requested"})
    assert len(counts(queries)) == 1
    assert page.context["cl"].result_count == WorkOrder.objects.filter(status="requested").count()


def test_a_small_table_and_a_filtered_queryset_are_counted_exactly(plant_a):
    assert EstimatedCountPaginator(WorkOrder.objects.all(), 10).count == WorkOrder.objects.count()
    mine = WorkOrder.objects.filter(site=plant_a.site)
    assert EstimatedCountPaginator(mine, 10).count == mine.count()


LARGE_LISTS = [
    "workorders.WorkOrder",
    "workorders.StatusChange",
    "workorders.WorkOrderEvent",
    "workorders.LabourEntry",
    "assets.Asset",
    "assets.MeterReading",
    "assets.StockMovement",
    "alerts.Alert",
    "audit.AuditEntry",
]


@pytest.mark.parametrize("label", LARGE_LISTS)
def test_large_lists_neither_count_everything_nor_offer_a_date_hierarchy(label):
    from django.apps import apps

    model_admin = admin.site.get_model_admin(apps.get_model(label))
    assert model_admin.show_full_result_count is False
    assert issubclass(model_admin.paginator, EstimatedCountPaginator)
    assert model_admin.date_hierarchy is None


def test_a_journal_finds_a_work_orders_rows_by_its_number(planner_client, plant_a):
    wanted = WorkOrderFactory(site=plant_a.site)
    url = reverse("admin:workorders_statuschange_changelist")
    rows = found(planner_client, url, wanted.number.lower())
    assert rows and {row.work_order_id for row in rows} == {wanted.pk}
