"""The API's search and filter parameters are answered from indexes on PostgreSQL (issue 14 §2):
a work order number on its unique index, part SKUs and names from trigram indexes on
`UPPER(column)`, which Django's `icontains` compares."""

import pytest

from tests.factories import AssetFactory, PartFactory, WorkOrderFactory
from tests.plans import indexed_plans_of

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.postgresql(reason="the plans of trigram and pattern indexes"),
]


def plans_naming(index: str, plans: list[str]) -> list[str]:
    return [plan for plan in plans if index in plan]


@pytest.mark.parametrize(
    ("url", "index"),
    [
        ("/api/v1/parts/?q=bear", "part_sku_trgm"),
        ("/api/v1/parts/?q=bear", "part_name_trgm"),
        ("/api/v1/work-orders/?number=WO-000001", "workorders_workorder_number_"),
        ("/api/v1/assets/?tag=P-101", "using asset_tag on"),
    ],
)
def test_search_parameters_are_answered_from_indexes(as_user, superuser, site, url, index):
    PartFactory(name="Bearing 6205")
    WorkOrderFactory(site=site, asset=AssetFactory(site=site, name="Feed pump"))
    api = as_user(superuser)  # every site: no site index that could answer instead
    responses = []
    plans = indexed_plans_of(lambda: responses.append(api.get(url)))
    assert responses[0].status_code == 200
    assert plans_naming(index, plans), "\n\n".join(plans)
