"""With 10,000 work orders the planner's pages cost a bounded number of queries."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import AssetFactory
from tests.world import Plant
from workorders.choices import Priority, Source, Status, WorkOrderType
from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db

STATUSES = list(Status)
TYPES = list(WorkOrderType)
SOURCES = list(Source)


@pytest.fixture
def big_plant():
    plant = Plant("big")
    assets = [AssetFactory(site=plant.site, parent=plant.line) for _ in range(20)]
    now = timezone.now()
    WorkOrder.objects.bulk_create(
        WorkOrder(
            site=plant.site,
            asset=assets[i % len(assets)],
            title=f"Bulk work {i}",
            status=STATUSES[i % len(STATUSES)],
            type=TYPES[i % len(TYPES)],
            source=SOURCES[i % len(SOURCES)],
            priority=Priority.values[i % 4],
            assignee=plant.technician if i % 3 else None,
            created_at=now - timedelta(hours=i),
            due_at=now + timedelta(hours=48 - i),
            waiting_for_parts=i % 17 == 0,
        )
        for i in range(10_000)
    )
    return plant


PAGES = [
    ("admin:workorders_workorder_changelist", {}),
    ("admin:workorders_workorder_changelist", {"status__exact": "requested"}),
    ("admin:workorders_workorder_changelist", {"due": "overdue", "priority__exact": "1"}),
    ("admin:workorders_workorder_changelist", {"q": "Bulk work 99"}),
    ("admin:workorders_workorder_changelist", {"o": "-9"}),
    ("admin:planner-dashboard", {"days": "365"}),
    ("admin:planner-triage", {}),
    ("admin:planner-dispatch", {}),
    ("admin:index", {}),
]


@pytest.mark.slow
def test_planner_pages_cost_a_bounded_number_of_queries_with_10000_work_orders(
    client, big_plant, django_assert_max_num_queries
):
    assert WorkOrder.objects.count() > 10_000
    client.force_login(big_plant.planner)
    for name, params in PAGES:
        # 19: the dashboard's route compliance is one grouped query over round runs (rounds.md);
        # 21: its predicted failures are the projected crossings and their proposals.
        with django_assert_max_num_queries(21):
            response = client.get(reverse(name), params)
        assert response.status_code == 200, (name, params)
    # The asset filter narrows to the subtree without one query per row.
    with django_assert_max_num_queries(18):
        response = client.get(
            reverse("admin:workorders_workorder_changelist"), {"asset_tree": big_plant.line.pk}
        )
    assert response.context["cl"].result_count > 9000
