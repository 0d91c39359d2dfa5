"""Asset hierarchy: materialised paths give subtree and ancestor queries in one query."""

import pytest
from django.core.exceptions import ValidationError

from assets.models import Asset
from assets.services import asset_update
from tests.factories import AssetFactory, SiteFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def plant():
    site = SiteFactory()
    area = AssetFactory(site=site, tag="A-1", level="area")
    line = AssetFactory(site=site, tag="L-1", parent=area, level="line")
    pump = AssetFactory(site=site, tag="P-101", parent=line)
    bearing = AssetFactory(site=site, tag="P-101-B1", parent=pump, level="component")
    other_line = AssetFactory(site=site, tag="L-2", parent=area, level="line")
    return {
        "site": site,
        "area": area,
        "line": line,
        "pump": pump,
        "bearing": bearing,
        "l2": other_line,
    }


def test_paths_and_depths_follow_the_parents(plant):
    area, line, pump, bearing = plant["area"], plant["line"], plant["pump"], plant["bearing"]
    assert area.path == f"/{area.pk}/"
    assert bearing.path == f"/{area.pk}/{line.pk}/{pump.pk}/{bearing.pk}/"
    assert [a.depth for a in (area, line, pump, bearing)] == [0, 1, 2, 3]


def test_subtree_is_one_query(plant, django_assert_num_queries):
    with django_assert_num_queries(1):
        tags = sorted(a.tag for a in Asset.objects.subtree_of(plant["line"]))
    assert tags == ["L-1", "P-101", "P-101-B1"]
    assert "L-1" not in [a.tag for a in Asset.objects.subtree_of(plant["line"], include_self=False)]


def test_subtree_does_not_match_ids_that_share_a_prefix(plant):
    """/1/ must not match /12/: paths end with a slash."""
    tags = {a.tag for a in Asset.objects.subtree_of(plant["area"])}
    assert tags == {"A-1", "L-1", "P-101", "P-101-B1", "L-2"}
    assert AssetFactory().tag not in tags


def test_ancestors_are_one_query_from_the_root_down(plant, django_assert_num_queries):
    with django_assert_num_queries(1):
        tags = [a.tag for a in Asset.objects.ancestors_of(plant["bearing"])]
    assert tags == ["A-1", "L-1", "P-101"]


def test_moving_an_asset_moves_its_whole_subtree(plant):
    pump = plant["pump"]
    asset_update(asset=pump, parent=plant["l2"])
    bearing = Asset.objects.get(pk=plant["bearing"].pk)
    assert bearing.path == f"/{plant['area'].pk}/{plant['l2'].pk}/{pump.pk}/{bearing.pk}/"
    assert bearing.depth == 3
    assert [a.tag for a in Asset.objects.subtree_of(plant["l2"])] == ["L-2", "P-101", "P-101-B1"]
    assert [a.tag for a in Asset.objects.subtree_of(plant["line"])] == ["L-1"]


def test_moving_to_the_root_reduces_depths(plant):
    asset_update(asset=plant["pump"], parent=None)
    bearing = Asset.objects.get(pk=plant["bearing"].pk)
    assert bearing.depth == 1
    assert bearing.path == f"/{plant['pump'].pk}/{bearing.pk}/"


def test_an_asset_cannot_be_moved_below_itself(plant):
    with pytest.raises(ValidationError) as refused:
        asset_update(asset=plant["line"], parent=plant["bearing"])
    assert "parent" in refused.value.message_dict


def test_a_parent_must_be_at_the_same_site(plant):
    with pytest.raises(ValidationError) as refused:
        AssetFactory(site=SiteFactory(), parent=plant["area"])
    assert "parent" in refused.value.message_dict


def test_tags_are_unique_within_a_site_but_not_across_sites(plant):
    with pytest.raises(ValidationError):
        AssetFactory(site=plant["site"], tag="P-101")
    assert AssetFactory(site=SiteFactory(), tag="P-101").tag == "P-101"
