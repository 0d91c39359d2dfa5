"""The assessment of watched measurements: anomaly alerts, projected crossings, proposed work."""

import math
import random
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings

from alerts.choices import AlertStatus
from alerts.models import Alert
from alerts.outbound import alert_data
from condition import assessment
from condition.assessment import measurements_assess, measurements_due, monitored_assess
from monitoring.choices import MeasurementSource, TrendStatus
from monitoring.models import MonitoredMeasurement, Prediction
from monitoring.services import MeasurementIn, measurements_record, monitored_measurement_save
from tests.concurrency import at_once
from tests.factories import move_to
from workorders import services as wo_services
from workorders.choices import EventKind, Source, Status, WorkOrderType
from workorders.models import WorkOrder

START = datetime(2026, 3, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


def record(asset, values, *, start=START, step=HOUR, name="vibration"):
    """Store hourly values of the measurement from `start`."""
    measurements_record(
        measurements=[
            MeasurementIn(
                asset_id=asset.pk,
                name=name,
                unit="mm/s",
                value=value,
                at=start + i * step,
                source=MeasurementSource.READING,
            )
            for i, value in enumerate(values)
        ]
    )
    return start + (len(values) - 1) * step


def watch(asset, **fields):
    defaults = {"name": "vibration", "unit": "mm/s", "alarm_limit": 7.1, "horizon_days": 45}
    return monitored_measurement_save(asset=asset, **{**defaults, **fields})


def wear(hours, *, level=2.0, per_day=0.1, start_hour=0):
    """A clean linear wear: `level` + `per_day` a day, hourly."""
    return [level + per_day * (start_hour + h) / 24 for h in range(hours)]


def proposals(asset):
    return WorkOrder.objects.filter(asset=asset, source=Source.PREDICTION)


@pytest.mark.django_db
class TestProposals:
    def test_a_clean_linear_wear_proposes_work_due_before_the_exact_crossing(self, pump):
        monitored = watch(pump)
        # 2.0 mm/s rising 0.1 a day for 21 days: 7.1 is reached 51 days after START.
        last = record(pump, wear(21 * 24))
        now = last + timedelta(minutes=5)

        summary = measurements_assess(now=now)

        assert summary.assessed == 1
        assert summary.proposed == 1
        monitored.refresh_from_db()
        crossing = START + timedelta(days=51)
        assert monitored.trend_status == TrendStatus.APPROACHING
        assert abs(monitored.projected_at - crossing) < timedelta(seconds=1)
        assert monitored.slope_per_day == pytest.approx(0.1)
        assert monitored.last_at == last
        (work_order,) = proposals(pump)
        assert work_order.status == Status.REQUESTED
        assert work_order.type == WorkOrderType.CONDITION_BASED
        assert work_order.condition == "trend.vibration"
        assert work_order.due_at < monitored.projected_at
        assert work_order.due_at <= crossing - timedelta(days=1)
        prediction = work_order.prediction
        assert prediction.evidence["points"] == 21 * 24
        assert prediction.evidence["window_days"] == 21
        assert prediction.evidence["projected_at"] == monitored.projected_at.isoformat()
        assert prediction.projected_earliest <= prediction.projected_at
        assert prediction.projected_at <= prediction.projected_latest
        assert "Theil-Sen" in work_order.description
        assert work_order.events.filter(kind="created").exists()

    def test_a_crossing_beyond_the_horizon_proposes_nothing(self, pump):
        monitored = watch(pump, horizon_days=20)
        last = record(pump, wear(21 * 24))

        measurements_assess(now=last)

        monitored.refresh_from_db()
        assert monitored.trend_status == TrendStatus.APPROACHING
        assert not proposals(pump).exists()

    def test_new_data_updates_the_one_open_proposal(self, pump):
        watch(pump)
        last = record(pump, wear(21 * 24))
        measurements_assess(now=last)
        (work_order,) = proposals(pump)
        first_due = work_order.due_at

        # Faster wear for the last eight days: the crossing comes days earlier.
        last = record(pump, [4.1 + 0.25 * h / 24 for h in range(1, 8 * 24)], start=last + HOUR)
        summary = measurements_assess(now=last)

        assert summary.proposed == 0
        assert summary.updated == 1
        (updated,) = proposals(pump)
        assert updated.pk == work_order.pk
        assert updated.due_at < first_due
        assert updated.events.filter(kind=EventKind.PREDICTION).count() == 1

    def test_a_projection_that_barely_moves_leaves_the_timeline_alone(self, pump):
        watch(pump)
        last = record(pump, wear(21 * 24))
        measurements_assess(now=last)
        last = record(pump, wear(6, start_hour=21 * 24), start=last + HOUR)

        measurements_assess(now=last)

        (work_order,) = proposals(pump)
        assert not work_order.events.filter(kind=EventKind.PREDICTION).exists()
        assert work_order.prediction.evidence["last_at"] == last.isoformat()

    def test_a_recovered_trend_withdraws_the_proposal(self, pump):
        watch(pump)
        last = record(pump, wear(21 * 24))
        measurements_assess(now=last)
        # The bearing was greased: the value falls back and stays down for three weeks.
        last = record(pump, [2.0 - 0.01 * h / 24 for h in range(21 * 24)], start=last + HOUR)

        summary = measurements_assess(now=last)

        assert summary.withdrawn == 1
        (work_order,) = proposals(pump)
        assert work_order.status == Status.CANCELLED
        assert "no longer approaches" in work_order.history.latest("pk").reason
        assert work_order.prediction.withdrawn_at == last

    def test_accepted_work_stays_when_the_trend_recovers(self, pump, planner):
        watch(pump)
        last = record(pump, wear(21 * 24))
        measurements_assess(now=last)
        (work_order,) = proposals(pump)
        wo_services.work_order_transition(work_order=work_order, to=Status.APPROVED, by=planner)
        last = record(pump, [2.0] * (21 * 24), start=last + HOUR)

        measurements_assess(now=last)
        last = record(pump, [2.0] * 3, start=last + HOUR)
        measurements_assess(now=last)

        work_order.refresh_from_db()
        assert work_order.status == Status.APPROVED
        assert work_order.events.filter(kind=EventKind.PREDICTION).count() == 1

    def test_after_a_withdrawal_a_new_approach_proposes_again(self, pump):
        watch(pump)
        last = record(pump, wear(21 * 24))
        measurements_assess(now=last)
        last = record(pump, [2.0] * (21 * 24), start=last + HOUR)
        measurements_assess(now=last)
        last = record(pump, wear(21 * 24, level=3.0, per_day=0.15), start=last + HOUR)

        assert measurements_assess(now=last).proposed == 1
        assert proposals(pump).count() == 2
        assert proposals(pump).filter(status=Status.REQUESTED).count() == 1

    def test_a_healthy_noisy_series_raises_nothing(self, pump):
        watch(pump)
        rng = random.Random(7)
        last = record(pump, [2.0 + rng.gauss(0, 0.05) for _ in range(21 * 24)])

        summary = measurements_assess(now=last)

        assert summary.as_dict() == {
            "assessed": 1,
            "anomalies": 0,
            "proposed": 0,
            "updated": 0,
            "withdrawn": 0,
        }
        assert not Alert.objects.exists()

    def test_exponential_wear_is_followed_with_a_healthy_level(self, pump):
        monitored = watch(pump, healthy_level=1.0)
        # 1 + 0.5 e^(0.05 t): 7.1 at t = ln(12.2) / 0.05 = 50.03 days.
        values = [1.0 + 0.5 * math.exp(0.05 * h / 24) for h in range(21 * 24)]
        last = record(pump, values)

        measurements_assess(now=last)

        monitored.refresh_from_db()
        crossing = START + timedelta(days=math.log(12.2) / 0.05)
        assert abs(monitored.projected_at - crossing) < timedelta(hours=1)
        assert proposals(pump).get().prediction.evidence["transform"] == "log_excess"


@pytest.mark.django_db
class TestAnomalies:
    def test_a_step_raises_one_anomaly_alert_into_the_pipeline(
        self, pump, django_capture_on_commit_callbacks
    ):
        watch(pump)
        rng = random.Random(3)
        values = [2.0 + rng.gauss(0, 0.05) for _ in range(10 * 24)]
        values += [3.5 + rng.gauss(0, 0.05) for _ in range(2 * 24)]
        last = record(pump, values)

        with django_capture_on_commit_callbacks(execute=True):
            summary = measurements_assess(now=last)

        assert summary.anomalies == 1
        (alert,) = Alert.objects.all()
        assert alert.condition == "anomaly.vibration"
        assert alert.severity == "warning"
        assert alert.gateway_id is None
        assert alert.asset_id == pump.pk
        assert alert.observed_at == START + 10 * 24 * HOUR
        assert alert.attributes["kind"] == "value"
        # Through the pipeline: a warning is recorded when no rule says more.
        assert alert.status == AlertStatus.RECORDED
        # Integrators hear of it with no gateway (docs/webhooks-outbound.md).
        assert alert_data(alert)["gateway_id"] is None

    def test_an_anomaly_is_raised_once_whatever_the_runs(self, pump):
        watch(pump)
        rng = random.Random(3)
        values = [2.0 + rng.gauss(0, 0.05) for _ in range(10 * 24)] + [3.5] * 24
        last = record(pump, values)
        measurements_assess(now=last)
        MonitoredMeasurement.objects.update(anomalies_through=None, last_at=None)

        measurements_assess(now=last)
        last = record(pump, [3.5] * 5, start=last + HOUR)
        measurements_assess(now=last)

        assert Alert.objects.count() == 1

    def test_a_rule_may_open_work_for_an_anomaly(
        self, pump, site, django_capture_on_commit_callbacks
    ):
        from pipeline.models import AlertRule

        AlertRule.objects.create(
            site=site, name="anomalies", condition_pattern="anomaly.*", min_severity="warning"
        )
        watch(pump)
        values = [2.0] * (5 * 24) + [9.0] * 3
        values = [v + 0.01 * (i % 3) for i, v in enumerate(values)]
        last = record(pump, values)

        with django_capture_on_commit_callbacks(execute=True):
            measurements_assess(now=last)

        alert = Alert.objects.get()
        assert alert.status == AlertStatus.PROCESSED
        assert alert.work_order.condition == "anomaly.vibration"


@pytest.mark.django_db
class TestWhichAreAssessed:
    def test_only_enabled_measurements_with_new_values(self, pump):
        monitored = watch(pump)
        idle = watch(pump, name="temperature", alarm_limit=90)
        disabled = watch(pump, name="current", alarm_limit=20, enabled=False)
        last = record(pump, wear(48))
        record(pump, [10.0] * 48, name="current")

        assert measurements_due(now=last) == [monitored.pk]
        measurements_assess(now=last)
        assert measurements_due(now=last) == []
        last = record(pump, [2.5], start=last + HOUR)
        assert measurements_due(now=last) == [monitored.pk]
        assert idle.pk and disabled.pk

    def test_values_after_now_are_not_looked_at(self, pump):
        monitored = watch(pump)
        last = record(pump, wear(48))

        monitored_assess(monitored_id=monitored.pk, now=last - 10 * HOUR)

        monitored.refresh_from_db()
        assert monitored.last_at == last - 10 * HOUR

    def test_a_failing_measurement_does_not_stop_the_others(self, pump, monkeypatch):
        first = watch(pump)
        second = watch(pump, name="current", alarm_limit=20)
        last = record(pump, wear(48))
        record(pump, wear(48), name="current")
        original = assessment._assess_trend

        def broken(monitored, points, now):
            if monitored.pk == first.pk:
                raise RuntimeError("boom")
            return original(monitored, points, now)

        monkeypatch.setattr(assessment, "_assess_trend", broken)
        summary = measurements_assess(now=last)

        assert summary.skipped == [first.pk]
        assert summary.assessed == 1
        second.refresh_from_db()
        assert second.assessed_at == last

    def test_the_beat_runs_the_assessment(self):
        entry = settings.CELERY_BEAT_SCHEDULE["condition-assess"]
        assert entry["task"] == "condition.tasks.assess_measurements"

    def test_the_task_returns_its_summary(self, pump):
        from condition.tasks import assess_measurements

        watch(pump)
        last = record(pump, wear(21 * 24))
        with time_machine.travel(last + HOUR, tick=False):
            assert assess_measurements.delay().get()["proposed"] == 1


@pytest.mark.postgresql(reason="SQLite locks the whole database for writers")
@pytest.mark.django_db(transaction=True)
class TestConcurrency:
    def test_concurrent_assessments_open_one_proposal(self, pump):
        monitored = watch(pump)
        last = record(pump, wear(21 * 24))

        at_once(lambda: monitored_assess(monitored_id=monitored.pk, now=last), 4)

        assert proposals(pump).count() == 1
        assert Prediction.objects.count() == 1

    def test_the_constraint_decides_a_race_the_row_lock_does_not_see(self, pump):
        """Without the watched measurement's lock, racing proposers still open one work order:
        the losers update the winner's."""
        from django.db import transaction

        monitored = watch(pump)
        last = record(pump, wear(21 * 24))
        with transaction.atomic():
            monitored = MonitoredMeasurement.objects.select_related("asset").get(pk=monitored.pk)
            raw, points = assessment._values(monitored, last)
            monitored.last_at, monitored.last_value = raw[-1]
            trend = assessment._assess_trend(monitored, points, last)

        def propose():
            summary = assessment.AssessmentSummary()
            with transaction.atomic():
                assessment._propose(monitored, trend, last, summary)
            return summary.proposed

        assert sorted(at_once(propose, 4)) == [0, 0, 0, 1]
        assert proposals(pump).count() == 1


@pytest.mark.django_db
class TestPlannersAndRepairs:
    def test_a_proposal_a_planner_cancelled_is_not_proposed_again_from_the_same_values(
        self, pump, planner
    ):
        watch(pump)
        last = record(pump, wear(21 * 24))
        measurements_assess(now=last)
        (work_order,) = proposals(pump)
        wo_services.work_order_transition(
            work_order=work_order, to=Status.CANCELLED, by=planner, reason="False alarm"
        )
        with time_machine.travel(last + HOUR, tick=False):
            last = record(pump, wear(3, start_hour=21 * 24), start=last + HOUR)

        summary = measurements_assess(now=last)

        assert summary.proposed == 0
        assert proposals(pump).count() == 1

    def test_after_a_repair_only_the_values_since_count(self, pump, planner):
        monitored = watch(pump)
        last = record(pump, wear(21 * 24))
        measurements_assess(now=last)
        (work_order,) = proposals(pump)
        move_to(work_order, Status.COMPLETED, by=planner)
        repaired = work_order.history.latest("pk").changed_at
        # The bearing is new: low and steady since the repair.
        last = record(pump, [1.5] * 48, start=max(last, repaired) + HOUR)

        assert measurements_assess(now=last).proposed == 0
        monitored.refresh_from_db()
        assert monitored.trend_status == TrendStatus.FLAT
        assert proposals(pump).count() == 1

    def test_work_of_the_same_condition_not_proposed_is_left_alone(self, pump, site):
        foreign = WorkOrder.objects.create(
            site=site,
            asset=pump,
            title="Opened by a gateway",
            condition="trend.vibration",
            source=Source.ALERT,
            status=Status.REQUESTED,
        )
        watch(pump)
        last = record(pump, wear(21 * 24))

        summary = measurements_assess(now=last)
        last = record(pump, [2.0] * (21 * 24), start=last + HOUR)
        measurements_assess(now=last)

        assert summary.proposed == 0
        foreign.refresh_from_db()
        assert foreign.status == Status.REQUESTED
        assert foreign.title == "Opened by a gateway"
        assert not Prediction.objects.exists()

    def test_disabling_the_watch_withdraws_the_waiting_proposal(self, pump, planner):
        monitored = watch(pump)
        last = record(pump, wear(21 * 24))
        measurements_assess(now=last)

        monitored_measurement_save(monitored=monitored, enabled=False, by=planner)

        (work_order,) = proposals(pump)
        assert work_order.status == Status.CANCELLED
        assert work_order.prediction.withdrawn_at is not None

    def test_new_limits_are_assessed_without_waiting_for_new_values(self, pump, planner):
        monitored = watch(pump)
        last = record(pump, wear(21 * 24))
        measurements_assess(now=last)
        assert measurements_due(now=last) == []

        monitored_measurement_save(monitored=monitored, alarm_limit=9.0, by=planner)

        assert measurements_due(now=last + HOUR) == [monitored.pk]
        measurements_assess(now=last + HOUR)
        monitored.refresh_from_db()
        assert abs(monitored.projected_at - (START + timedelta(days=70))) < timedelta(hours=1)

    def test_a_proposal_is_kept_up_to_date_beyond_the_horizon(self, pump):
        watch(pump, horizon_days=35)
        last = record(pump, wear(21 * 24))
        measurements_assess(now=last)
        # Slower wear: the crossing moves out past the horizon, still approaching.
        last = record(pump, [4.1 + 0.02 * h / 24 for h in range(1, 14 * 24)], start=last + HOUR)

        summary = measurements_assess(now=last)

        (work_order,) = proposals(pump)
        assert work_order.status == Status.REQUESTED
        assert summary.withdrawn == 0
        assert work_order.prediction.projected_at > last + timedelta(days=35)

    def test_absurd_values_are_left_out(self, pump):
        monitored = watch(pump)
        values = wear(21 * 24)
        values[100] = 1e300
        values[200] = -1e200
        last = record(pump, values)

        measurements_assess(now=last)

        monitored.refresh_from_db()
        assert monitored.trend_status == TrendStatus.APPROACHING
        assert not Alert.objects.exists()
