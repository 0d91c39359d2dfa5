"""The technician's search finds work by the start of its number or by its asset's tag, and
assets by the start of their tag, from indexes (issue 14 §2)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tech import selectors
from tests.factories import AssetFactory, WorkOrderFactory
from tests.plans import indexed_plans_of
from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db


def test_work_is_found_by_the_start_of_its_number(technician, work):
    assert selectors.search_work(technician, work.number[:-1]) == [work]
    assert selectors.search_work(technician, str(work.pk)) == [work]
    assert selectors.search_work(technician, work.number.lower()) == [work]


def test_work_is_found_by_its_assets_tag_not_by_the_middle_of_a_number(technician, work, pump):
    assert selectors.search_work(technician, pump.tag.lower()) == [work]
    assert selectors.search_work(technician, work.number[1:]) == []  # "O-000042" is no number


def test_another_sites_asset_tag_finds_none_of_its_work(technician, work, other_site):
    foreign = AssetFactory(site=other_site, tag="X-9")
    WorkOrderFactory(site=other_site, asset=foreign)
    assert selectors.search_work(technician, "X-9") == []
    assert selectors.search_assets(technician, "X-9") == []


def test_assets_are_found_by_the_start_of_their_tag(technician, site, pump):
    other = AssetFactory(site=site, tag=f"{pump.tag}0")
    assert set(selectors.search_assets(technician, pump.tag.lower())) == {pump, other}


@pytest.mark.postgresql(reason="the plan of a pattern index")
def test_work_is_found_by_number_from_its_index(technician, work, site):
    # A table of one row makes every index as cheap as another, so the planner's pick would
    # follow whatever statistics earlier tests left: give it a site's worth of work and fresh
    # statistics, as a real database has.
    WorkOrder.objects.bulk_create(WorkOrder(site=site, title=f"Job {n}") for n in range(500))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE workorders_workorder")
    plans = indexed_plans_of(lambda: selectors.search_work(technician, work.number))
    assert any("workorders_workorder_number_" in plan for plan in plans), "\n\n".join(plans)


@pytest.mark.postgresql(reason="a trigram index")
def test_the_tag_searches_compare_what_the_trigram_index_holds(technician, work):
    """Within a technician's few sites the planner may as well read the site's assets; what
    matters at scale is that the comparison is the indexed expression."""
    with CaptureQueriesContext(connection) as queries:
        selectors.search_work(technician, "P-1")
        selectors.search_assets(technician, "P-1")
    compared = [q["sql"] for q in queries if 'UPPER("assets_asset"."tag"::text)' in q["sql"]]
    assert len(compared) == 2
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'asset_tag_trgm'")
        (definition,) = cursor.fetchone()
    assert "upper((tag)::text) gin_trgm_ops" in definition
