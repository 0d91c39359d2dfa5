"""The asset health score: each part on hand-made inputs, its caps, the unknown parts, and the
batch that scores many assets in a fixed number of queries."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts.models import Alert
from assets.choices import AssetLevel, AssetState, Criticality
from assets.models import Asset
from condition.health import (
    BANDS,
    DEFINITION,
    HealthInputs,
    Watched,
    band_counts,
    criticality_grid,
    health_of_assets,
    position,
    score,
)
from monitoring.choices import Direction
from monitoring.models import MonitoredMeasurement
from tests.factories import AssetFactory, SiteFactory, WorkOrderFactory
from workorders.choices import Status, WorkOrderType
from workorders.models import WorkOrder

NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
TODAY = NOW.date()


def watched(
    last_value,
    *,
    healthy=2.0,
    warning=None,
    alarm=10.0,
    direction=Direction.ABOVE,
    projected_at=None,
    horizon_days=30,
):
    return Watched(direction, alarm, warning, healthy, last_value, projected_at, horizon_days)


def health(**inputs):
    return score(HealthInputs(**inputs), today=TODAY, now=NOW)


# ---------------------------------------------------------------- the pure score


def test_an_asset_nothing_is_known_against_scores_100_and_names_its_unknown_parts():
    result = health()
    assert result.score == 100
    assert result.unknown == ["condition", "anomalies", "age"]
    assert result.reasons == []


def test_condition_costs_in_proportion_to_the_way_from_healthy_level_to_alarm_limit():
    assert health(watched=(watched(2.0),), monitored=True).penalties["condition"] == 0
    assert health(watched=(watched(6.0),), monitored=True).penalties["condition"] == 20
    assert health(watched=(watched(10.0),), monitored=True).score == 60
    assert health(watched=(watched(25.0),), monitored=True).penalties["condition"] == 40
    assert health(watched=(watched(1.0),), monitored=True).penalties["condition"] == 0


@pytest.mark.parametrize(
    ("last", "healthy", "alarm", "penalty"),
    [(1e308, -1e15, 1e15, 40), (-1e308, -1e15, 1e15, 0), (1e308, -1e308, 1e308, 40)],
)
def test_huge_values_and_limits_never_break_the_score(last, healthy, alarm, penalty):
    result = health(watched=(watched(last, healthy=healthy, alarm=alarm),), monitored=True)
    assert result.penalties["condition"] == penalty
    assert 0 <= result.score <= 100


def test_a_measurement_that_alarms_below_its_limit_counts_downwards():
    falling = watched(7.0, healthy=10.0, alarm=4.0, direction=Direction.BELOW)
    assert position(falling) == pytest.approx(0.5)
    assert position(watched(3.0, healthy=10.0, alarm=4.0, direction=Direction.BELOW)) == 1.0


def test_without_a_healthy_level_the_penalty_starts_at_the_warning_limit():
    assert position(watched(6.0, healthy=None, warning=6.0)) == 0.0
    assert position(watched(8.0, healthy=None, warning=6.0)) == pytest.approx(0.5)


def test_without_healthy_level_or_warning_only_reaching_the_limit_counts():
    assert position(watched(9.9, healthy=None)) == 0.0
    assert position(watched(10.0, healthy=None)) == 1.0


def test_a_crossing_projected_within_the_horizon_counts_at_least_half():
    soon = watched(3.0, projected_at=NOW + timedelta(days=20), horizon_days=30)
    later = watched(3.0, projected_at=NOW + timedelta(days=40), horizon_days=30)
    assert health(watched=(soon,), monitored=True).penalties["condition"] == 20
    assert health(watched=(later,), monitored=True).penalties["condition"] == 5
    result = health(watched=(later, soon), monitored=True)
    assert result.nearest_crossing == NOW + timedelta(days=20)


def test_the_worst_measurement_sets_the_condition_and_unassessed_ones_are_unknown():
    result = health(watched=(watched(4.0), watched(8.0), watched(None)), monitored=True)
    assert result.penalties["condition"] == 30
    assert "condition" in result.known
    unassessed = health(watched=(watched(None),), monitored=True)
    assert unassessed.unknown == ["condition", "age"]
    assert unassessed.score == 100


def test_anomalies_open_work_and_failures_cost_their_points_up_to_their_caps():
    assert health(anomalies=2).penalties["anomalies"] == 10
    assert health(anomalies=9).penalties["anomalies"] == 15
    assert health(open_work=1).penalties["open_work"] == 10
    assert health(open_work=5).penalties["open_work"] == 20
    assert health(failures=2).penalties["failures"] == 10
    assert health(failures=7).penalties["failures"] == 15


def test_age_is_linear_over_a_twenty_year_design_life_and_stops_at_it():
    assert health(installed_on=date(2016, 11, 10)).penalties["age"] == 5
    assert health(installed_on=date(1980, 1, 1)).penalties["age"] == 10
    assert health(installed_on=date(2030, 1, 1)).penalties["age"] == 0
    assert "age" in health(installed_on=date(2030, 1, 1)).known


def test_every_part_at_its_cap_takes_the_score_to_zero_not_below():
    result = health(
        watched=(watched(50.0),),
        monitored=True,
        anomalies=10,
        open_work=10,
        failures=10,
        installed_on=date(1950, 1, 1),
    )
    assert result.score == 0
    assert result.band == 0
    assert [label for label, _ in result.reasons] == [
        "condition",
        "open work",
        "anomalies",
        "failures",
        "age",
    ]


@pytest.mark.parametrize(
    ("value", "band"), [(0, 0), (19, 0), (20, 1), (59, 2), (79, 3), (80, 4), (100, 4)]
)
def test_bands_include_their_lower_bound(value, band):
    from condition.health import Health

    assert Health(score=value, penalties={}, known=frozenset()).band == band
    assert len(BANDS) == 5


def test_the_definition_names_every_part_and_that_it_is_a_current_state():
    for words in (
        "Condition (up to 40)",
        "Anomalies (up to 15)",
        "Open work (up to 20)",
        "Failures (up to 15)",
        "Age (up to 10)",
        "not a history",
        "unknown",
    ):
        assert words in DEFINITION


# ---------------------------------------------------------------- many assets at once


def make_assets(site, n):
    return [AssetFactory(site=site, tag=f"H-{i:03d}", criticality=Criticality.B) for i in range(n)]


def with_history(asset):
    """A watched measurement half-way, an anomaly, one open and one old repair."""
    MonitoredMeasurement.objects.create(
        asset=asset,
        site=asset.site,
        name="vibration",
        alarm_limit=10,
        healthy_level=2,
        last_value=6.0,
        last_at=NOW,
    )
    Alert.objects.create(
        site=asset.site,
        asset=asset,
        asset_tag=asset.tag,
        alert_id=f"anomaly-{asset.pk}",
        condition="anomaly.vibration",
        severity="major",
        observed_at=NOW - timedelta(days=3),
    )
    open_work = WorkOrderFactory(site=asset.site, asset=asset, type=WorkOrderType.CORRECTIVE)
    done = WorkOrderFactory(site=asset.site, asset=asset, type=WorkOrderType.CORRECTIVE)
    WorkOrder.objects.filter(pk=done.pk).update(
        status=Status.COMPLETED, completed_at=NOW - timedelta(days=100)
    )
    return open_work


@pytest.mark.django_db
def test_the_batch_scores_each_asset_from_its_own_rows():
    site = SiteFactory()
    sick, fine = make_assets(site, 2)
    with_history(sick)
    Asset.objects.filter(pk=fine.pk).update(installed_on=date(2016, 11, 10))
    scored = health_of_assets(Asset.objects.filter(site=site), now=NOW)
    assert [a.tag for a in scored] == [sick.tag, fine.tag]
    assert scored[0].health.penalties == {
        "condition": 20,
        "anomalies": 5,
        "open_work": 10,
        "failures": 5,
        "age": 0,
    }
    assert scored[0].health.score == 60
    assert scored[1].health.score == 95
    assert scored[1].health.unknown == ["condition", "anomalies"]


@pytest.mark.django_db
def test_old_anomalies_closed_work_old_failures_and_other_types_cost_nothing():
    site = SiteFactory()
    (asset,) = make_assets(site, 1)
    Alert.objects.create(
        site=site,
        asset=asset,
        asset_tag=asset.tag,
        alert_id="old",
        condition="anomaly.temp",
        severity="major",
        observed_at=NOW - timedelta(days=31),
    )
    Alert.objects.create(
        site=site,
        asset=asset,
        asset_tag=asset.tag,
        alert_id="gateway-ish",
        condition="temp",
        severity="major",
        observed_at=NOW - timedelta(days=1),
    )
    for type_, status, completed in [
        (WorkOrderType.PREVENTIVE, Status.REQUESTED, None),
        (WorkOrderType.CORRECTIVE, Status.COMPLETED, NOW - timedelta(days=400)),
        (WorkOrderType.CONDITION_BASED, Status.COMPLETED, NOW - timedelta(days=10)),
        (WorkOrderType.CORRECTIVE, Status.CANCELLED, None),
    ]:
        wo = WorkOrderFactory(site=site, asset=asset, type=type_)
        WorkOrder.objects.filter(pk=wo.pk).update(status=status, completed_at=completed)
    (scored,) = health_of_assets(Asset.objects.filter(site=site), now=NOW)
    assert scored.health.score == 100


@pytest.mark.django_db
def test_areas_lines_and_decommissioned_assets_have_no_score():
    site = SiteFactory()
    area = AssetFactory(site=site, level=AssetLevel.AREA)
    gone = AssetFactory(site=site)
    Asset.objects.filter(pk=gone.pk).update(state=AssetState.DECOMMISSIONED)
    unit = AssetFactory(site=site, parent=area)
    assert [a.pk for a in health_of_assets(Asset.objects.filter(site=site), now=NOW)] == [unit.pk]


@pytest.mark.django_db
def test_scoring_one_or_twenty_assets_takes_one_query():
    one, twenty = SiteFactory(), SiteFactory()
    with_history(make_assets(one, 1)[0])
    for asset in make_assets(twenty, 20):
        with_history(asset)
    with CaptureQueriesContext(connection) as small:
        assert len(health_of_assets(Asset.objects.filter(site=one), now=NOW)) == 1
    with CaptureQueriesContext(connection) as large:
        assert len(health_of_assets(Asset.objects.filter(site=twenty), now=NOW)) == 20
    assert len(small.captured_queries) == len(large.captured_queries) == 1


@pytest.mark.django_db
def test_the_grid_and_the_bands_count_every_asset_once():
    site = SiteFactory()
    a = AssetFactory(site=site, criticality=Criticality.A)
    with_history(a)
    AssetFactory(site=site, criticality=Criticality.C)
    scored = health_of_assets(Asset.objects.filter(site=site), now=NOW)
    grid = criticality_grid(scored, ["A", "B", "C"])
    assert grid == [[0, 0, 0, 1, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 1]]
    assert band_counts(scored) == [
        ("0-19", 0),
        ("20-39", 0),
        ("40-59", 0),
        ("60-79", 1),
        ("80-100", 1),
    ]


@pytest.mark.django_db
def test_the_batch_reads_the_projected_crossing_back_as_the_instant_it_was():
    site = SiteFactory()
    (asset,) = make_assets(site, 1)
    crossing = NOW + timedelta(days=12, microseconds=250)
    MonitoredMeasurement.objects.create(
        asset=asset,
        site=site,
        name="temperature",
        alarm_limit=10,
        healthy_level=2,
        last_value=3.0,
        projected_at=crossing,
        horizon_days=30,
    )
    MonitoredMeasurement.objects.create(
        asset=asset, site=site, name="off", alarm_limit=1, last_value=5.0, enabled=False
    )
    (scored,) = health_of_assets(Asset.objects.filter(site=site), now=NOW)
    assert scored.health.nearest_crossing == crossing
    assert scored.health.penalties["condition"] == 20
