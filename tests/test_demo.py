"""The demo data set: realistic, complete (every status), consistent, and seeded only once."""

from datetime import timedelta

import pytest
from django.db.models import Max, Sum
from django.test import Client
from django.utils import timezone

from accounts.models import User
from assets.models import Asset, Site, Stock, StockMovement
from demo import data as demo
from workorders.choices import Source, Status
from workorders.models import JobPlan, StatusChange, WorkOrder

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded():
    assert demo.seed_demo() is True


def test_it_creates_three_sites_in_three_time_zones(seeded):
    zones = set(Site.objects.values_list("timezone", flat=True))
    assert zones == {"Europe/Berlin", "America/Chicago", "Asia/Singapore"}
    assert Site.objects.values("customer").distinct().count() == 2


def test_it_creates_about_200_assets_in_a_consistent_hierarchy(seeded):
    assert 180 <= Asset.objects.count() <= 220
    assert Asset.objects.aggregate(Max("depth"))["depth__max"] == 3
    for asset in Asset.objects.select_related("parent"):
        expected = f"{asset.parent.path if asset.parent else '/'}{asset.pk}/"
        assert asset.path == expected
        assert asset.depth == expected.count("/") - 2
        assert asset.parent is None or asset.parent.site_id == asset.site_id


def test_it_leaves_work_orders_in_every_status_with_their_history(seeded):
    assert set(WorkOrder.objects.values_list("status", flat=True)) == set(Status.values)
    for work_order in WorkOrder.objects.all():
        history = list(work_order.history.all())
        assert history[0].from_status == ""
        assert history[-1].to_status == work_order.status
    # Every change has a person, but the work the system opened by itself: the fleet check's
    # (the offline gateway's silence work) and condition monitoring's proposals.
    by_nobody = StatusChange.objects.filter(changed_by__isnull=True)
    assert set(by_nobody.values_list("work_order__source", flat=True)) <= {
        Source.FLEET,
        Source.PREDICTION,
    }


def test_stock_has_rows_below_the_reorder_point_and_a_ledger_that_adds_up(seeded):
    assert Stock.objects.low().exists()
    assert Stock.objects.exclude(pk__in=Stock.objects.low()).exists()
    for stock in Stock.objects.all():
        total = StockMovement.objects.filter(stock=stock).aggregate(Sum("quantity"))
        assert (total["quantity__sum"] or 0) == stock.on_hand


def test_every_demo_user_can_log_in_with_the_demo_password_and_has_a_token(seeded):
    logins = demo.demo_logins()
    assert {login.username for login in logins} == {u.username for u in demo.USERS}
    for login in logins:
        assert Client().login(username=login.username, password=demo.DEMO_PASSWORD), login
        assert len(login.token) == 64
    assert User.objects.get(username="planner.rheinwerk").is_staff


def test_a_second_run_changes_nothing(seeded):
    counts = (Asset.objects.count(), WorkOrder.objects.count(), User.objects.count())
    assert demo.seed_demo() is False
    assert (Asset.objects.count(), WorkOrder.objects.count(), User.objects.count()) == counts


def test_the_command_prints_the_logins_and_urls(seeded, capsys):
    from django.core.management import call_command

    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "already exists" in out
    assert "planner.rheinwerk" in out
    assert "demo1234" in out
    assert "/admin/" in out
    assert "/api/v1/docs/" in out


def test_a_berlin_job_plan_asks_for_both_sign_off_signatures(seeded):
    plan = JobPlan.objects.get(code="ber-handover")
    assert plan.requires_technician_signature and plan.requires_client_signature
    work = WorkOrder.objects.get(job_plan=plan)
    assert work.status == Status.IN_PROGRESS
    assert work.technician_signature_required and work.client_signature_required


def test_scheduled_work_from_the_lockout_job_plan_waits_for_its_lockout(seeded):
    work = WorkOrder.objects.filter(job_plan__code="lubrication-loto", status=Status.SCHEDULED)
    assert work.count() == Site.objects.count()
    for work_order in work:
        lockout = work_order.steps.get(kind="lockout")
        assert lockout.photo_required and not lockout.done
        assert work_order.asset.isolation_points.count() == 2


def test_it_walks_a_route_per_site_for_a_week_with_one_request_and_fed_meters(seeded):
    from pm.choices import RunStatus
    from pm.models import RoundResult, RoundRun, Route

    assert Route.objects.count() == Site.objects.count()
    for route in Route.objects.all():
        statuses = list(route.runs.values_list("status", flat=True))
        assert statuses.count(RunStatus.COMPLETED) == 6
        assert statuses.count(RunStatus.MISSED) == 1
    raised = RoundResult.objects.filter(work_order__isnull=False)
    assert raised.count() == Site.objects.count()
    assert set(raised.values_list("work_order__status", flat=True)) == {Status.REQUESTED}
    fed = RoundResult.objects.filter(value__isnull=False)
    assert fed.filter(meter_reading__isnull=True).count() == 0
    started = RoundRun.objects.filter(status=RunStatus.IN_PROGRESS)
    assert started.count() == Route.objects.count()  # today's, under way
    assert all(0 < run.results.count() < 6 for run in started)


@pytest.mark.django_db
def test_the_demo_watches_measurements_and_proposes_work_from_their_trends(
    django_capture_on_commit_callbacks,
):
    from alerts.models import Alert
    from monitoring.choices import TrendStatus
    from monitoring.models import MeasurementHour, MonitoredMeasurement

    with django_capture_on_commit_callbacks(execute=True):  # the anomalies' dispatch
        demo.seed_demo()

    sites = Site.objects.count()
    watched = MonitoredMeasurement.objects.all()
    assert watched.count() == 4 * sites
    assert MeasurementHour.objects.exists()
    # The wearing two (the motor current's step may tilt its line a little too, years out).
    wearing = watched.filter(name__in=["bearing_temperature", "vibration"])
    approaching = wearing.filter(trend_status=TrendStatus.APPROACHING)
    assert approaching.count() == 2 * sites
    assert (
        approaching.filter(projected_at__lte=timezone.now() + timedelta(days=30)).count()
        == 2 * sites
    )
    assert WorkOrder.objects.filter(source="prediction", status="requested").count() == 2 * sites
    assert watched.filter(name="vibration", trend_status=TrendStatus.FLAT).count() == sites
    anomalies = Alert.objects.filter(condition="anomaly.motor_current")
    assert anomalies.count() == sites
    assert set(anomalies.values_list("status", flat=True)) == {"recorded"}
