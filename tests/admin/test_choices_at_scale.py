"""No admin page lists a relation that grows with the data (issue 14 §1).

A site with more assets, parts, people and work orders than `BOUND` is set up, and every admin
registered on the site is walked: its list (the sidebar filters), its add and change pages
(inlines included) and the intermediate pages of its actions. No `<select>` offers more than
`BOUND` options and no filter more than `BOUND` links; those relations are chosen by search
through the admin's autocomplete, whose answers are scoped to the planner's sites.
"""

import re
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from django.utils import timezone

from alerts.choices import AlertStatus
from alerts.models import Alert
from assets.models import Stock
from pipeline.choices import Severity
from tests.factories import (
    AssetFactory,
    PartFactory,
    TechnicianFactory,
    WorkOrderFactory,
    gateway_with_secret,
)
from workorders.models import LabourEntry, WorkOrder

pytestmark = pytest.mark.django_db

BOUND = 50
MORE = BOUND + 10

SELECT = re.compile(r"<select\b.*?</select>", re.S)
FILTER = re.compile(r"<details data-filter-title=\"([^\"]*)\".*?</details>", re.S)


@pytest.fixture
def crowded_site(plant_a):
    """plant_a with more assets, parts, technicians and work orders than BOUND, each used."""
    technicians = [
        TechnicianFactory(username=f"crowd-{n}", sites=[plant_a.site]) for n in range(MORE)
    ]
    assets = [AssetFactory(site=plant_a.site, tag=f"C-{n:03d}") for n in range(MORE)]
    for part in PartFactory.create_batch(MORE):
        Stock.objects.create(part=part, storeroom=plant_a.storeroom, on_hand=Decimal("1"))
    now = timezone.now()
    for technician, asset in zip(technicians, assets, strict=True):
        work_order = WorkOrderFactory(site=plant_a.site, asset=asset, assignee=technician)
        LabourEntry.objects.create(
            work_order=work_order, technician=technician, started_at=now, hours=Decimal("1")
        )
    return plant_a


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def assert_bounded(page: str, where: str) -> int:
    """Every select and every list filter of the page within BOUND; returns how many were seen."""
    seen = 0
    for select in SELECT.findall(page):
        options = select.count("<option")
        assert options <= BOUND, f"{where}: a select offers {options} options: {select[:200]}"
        seen += 1
    for match in FILTER.finditer(page):
        title, links = match.group(1), match.group(0).count("<li")
        assert links <= BOUND, f"{where}: the filter {title!r} lists {links} choices"
        seen += 1
    return seen


def registered_admins():
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def test_no_list_filter_or_form_field_lists_a_growing_relation(crowded_site, client):
    client.force_login(crowded_site.planner)
    walked = 0
    for model, model_admin in registered_admins():
        changelist = client.get(url(model, "changelist"))
        if changelist.status_code == 403:
            continue  # not a planner's page (Django's groups, third-party admins)
        assert changelist.status_code == 200, f"{model.__name__}: {changelist.status_code}"
        request = changelist.wsgi_request
        walked += assert_bounded(changelist.content.decode(), f"{model.__name__} list")
        if model_admin.has_add_permission(request):
            page = client.get(url(model, "add"))
            assert page.status_code == 200, f"{model.__name__} add: {page.status_code}"
            walked += assert_bounded(page.content.decode(), f"{model.__name__} add")
        row = model_admin.get_queryset(request).order_by("pk").last()
        if row is not None:
            page = client.get(url(model, "change", row.pk))
            assert page.status_code == 200, f"{model.__name__} change: {page.status_code}"
            walked += assert_bounded(page.content.decode(), f"{model.__name__} change")
    assert walked > 40


@pytest.mark.parametrize("action", ["assign", "schedule"])
def test_the_work_order_action_forms_search_for_the_technician(crowded_site, client, action):
    client.force_login(crowded_site.planner)
    page = client.post(
        url(WorkOrder, "changelist"),
        {"action": action, ACTION_CHECKBOX_NAME: [crowded_site.work_order.pk]},
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert_bounded(html, action)
    assert 'class="admin-autocomplete' in html
    assert "admin/js/autocomplete.js" in html


def test_the_map_to_asset_form_searches_for_the_asset(crowded_site, client):
    gateway, _ = gateway_with_secret(site=crowded_site.site)
    alert = Alert.objects.create(
        gateway=gateway,
        site=crowded_site.site,
        alert_id="a-1",
        asset_tag="P-9",
        condition="overheat",
        severity=Severity.MAJOR,
        observed_at=timezone.now(),
        status=AlertStatus.UNMATCHED,
    )
    client.force_login(crowded_site.planner)
    page = client.post(
        url(Alert, "changelist"), {"action": "map_to_asset", ACTION_CHECKBOX_NAME: [alert.pk]}
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert_bounded(html, "map to asset")
    assert 'data-field-name="asset"' in html


def test_the_asset_subtree_filter_is_chosen_by_search_and_still_filters(crowded_site, client):
    client.force_login(crowded_site.planner)
    page = client.get(url(WorkOrder, "changelist"), {"asset_tree": crowded_site.area.pk})
    html = page.content.decode()
    assert 'name="asset_tree"' in html
    assert 'data-model-name="workorder"' in html and 'data-field-name="asset"' in html
    # the chosen asset is shown, the others are not listed
    assert f'<option value="{crowded_site.area.pk}" selected>' in html
    assert "C-059" not in html.split('id="changelist-filter"')[1]
    below = WorkOrder.objects.filter(asset__path__startswith=crowded_site.area.path)
    assert 0 < page.context["cl"].result_count == below.count() < MORE


def test_a_filter_keeps_the_other_parameters_of_the_list(crowded_site, client):
    client.force_login(crowded_site.planner)
    page = client.get(url(WorkOrder, "changelist"), {"status": "requested", "q": "leak"})
    html = page.content.decode()
    form = html.split('data-filter-title="asset (and below)"')[1].split("</form>")[0]
    assert '<input type="hidden" name="status" value="requested">' in form
    assert '<input type="hidden" name="q" value="leak">' in form


def test_another_sites_asset_chosen_in_the_filter_is_not_named_and_finds_nothing(
    crowded_site, plant_b, client
):
    client.force_login(crowded_site.planner)
    page = client.get(url(WorkOrder, "changelist"), {"asset_tree": plant_b.pump.pk})
    html = page.content.decode()
    assert plant_b.pump.tag not in html
    assert page.context["cl"].result_count == 0


AUTOCOMPLETE = [
    ("workorders", "workorder", "asset", "pump"),
    ("workorders", "workorder", "assignee", "technician"),
    ("workorders", "labourentry", "technician", "technician"),
    ("alerts", "alert", "asset", "pump"),
    ("assets", "stock", "part", None),
]


@pytest.mark.parametrize(("app_label", "model_name", "field_name", "foreign"), AUTOCOMPLETE)
def test_autocomplete_answers_only_rows_of_the_planners_sites(
    plant_a, plant_b, client, app_label, model_name, field_name, foreign
):
    client.force_login(plant_a.planner)
    answer = client.get(
        reverse("admin:autocomplete"),
        {"app_label": app_label, "model_name": model_name, "field_name": field_name, "term": ""},
    )
    assert answer.status_code == 200
    ids = {row["id"] for row in answer.json()["results"]}
    assert ids
    if foreign is not None:
        assert str(getattr(plant_b, foreign).pk) not in ids
        assert str(getattr(plant_a, foreign).pk) in ids


def test_autocomplete_search_for_a_tag_finds_the_asset_of_the_planners_site_only(
    plant_a, plant_b, client
):
    client.force_login(plant_a.planner)
    answer = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "workorders", "model_name": "workorder", "field_name": "asset", "term": "P-"},
    )
    ids = {row["id"] for row in answer.json()["results"]}
    assert str(plant_a.pump.pk) in ids
    assert str(plant_b.pump.pk) not in ids


def test_the_assignee_filter_keeps_its_link_to_unassigned_work(crowded_site, client):
    unassigned = WorkOrderFactory(site=crowded_site.site)
    client.force_login(crowded_site.planner)
    page = client.get(url(WorkOrder, "changelist"))
    block = page.content.decode().split('data-filter-title="assignee"')[1].split("</details>")[0]
    assert "?assignee__isnull=True" in block
    none = client.get(url(WorkOrder, "changelist"), {"assignee__isnull": "True"})
    assert unassigned in none.context["cl"].result_list
    assert all(row.assignee_id is None for row in none.context["cl"].result_list)
    form = none.content.decode().split('data-filter-title="assignee"')[1].split("</form>")[0]
    assert 'name="assignee__isnull"' not in form  # choosing a person replaces "none"
