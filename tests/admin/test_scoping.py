"""A planner sees and picks only their own sites' rows in the admin."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("name", "attr", "text"),
    [
        ("workorders_workorder", "work_order", lambda p: p.work_order.number),
        ("assets_asset", "pump", lambda p: p.pump.tag),
        ("assets_stock", "stock", lambda p: str(p.storeroom)),
        ("assets_storeroom", "storeroom", lambda p: p.storeroom.code),
        ("accounts_user", "technician", lambda p: p.technician.username),
    ],
)
def test_a_planner_does_not_see_another_sites_rows(
    planner_client, plant_a, plant_b, name, attr, text
):
    listing = planner_client.get(reverse(f"admin:{name}_changelist")).content.decode()
    assert text(plant_a) in listing
    assert text(plant_b) not in listing

    other = getattr(plant_b, attr)
    response = planner_client.get(reverse(f"admin:{name}_change", args=[other.pk]), follow=True)
    assert response.redirect_chain[0][1] == 302
    assert "doesn\N{RIGHT SINGLE QUOTATION MARK}t exist" in response.content.decode()


def test_the_site_filter_and_the_site_choices_list_only_the_planners_sites(
    planner_client, plant_a, plant_b
):
    listing = planner_client.get(reverse("admin:workorders_workorder_changelist"))
    assert plant_b.site.name not in listing.content.decode()
    add = planner_client.get(reverse("admin:workorders_workorder_add"))
    site_choices = list(add.context["adminform"].form.fields["site"].queryset)
    assert site_choices == [plant_a.site]


def test_the_asset_autocomplete_offers_only_the_planners_assets(planner_client, plant_a, plant_b):
    response = planner_client.get(
        reverse("admin:autocomplete"),
        {
            "term": "P-",
            "app_label": "workorders",
            "model_name": "workorder",
            "field_name": "asset",
        },
    )
    texts = [row["text"] for row in response.json()["results"]]
    assert any(plant_a.pump.tag in t for t in texts)
    assert not any(plant_b.pump.tag in t for t in texts)


def test_the_assignee_autocomplete_offers_only_technicians_of_the_planners_sites(
    planner_client, plant_a, plant_b
):
    response = planner_client.get(
        reverse("admin:autocomplete"),
        {
            "term": "",
            "app_label": "workorders",
            "model_name": "workorder",
            "field_name": "assignee",
        },
    )
    texts = {row["text"] for row in response.json()["results"]}
    assert texts == {plant_a.technician.username}
