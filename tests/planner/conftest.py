"""A small plant with a known history, so every dashboard figure can be worked out by hand."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.choices import AlertStatus
from alerts.models import Alert
from assets.choices import AssetState
from tests.factories import (
    AssetFactory,
    EquipmentClassFactory,
    GatewayFactory,
    PlannerFactory,
    PMPlanFactory,
    SiteFactory,
    TechnicianFactory,
    WorkOrderFactory,
    move_to,
)
from tests.world import Plant
from workorders.choices import Priority, Source, Status, WorkOrderType
from workorders.models import WorkOrder

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


def backdate(work_order, **times):
    """Set the timestamps the lifecycle would have left (test set-up only)."""
    WorkOrder.objects.filter(pk=work_order.pk).update(**times)
    work_order.refresh_from_db()
    return work_order


class KnownPlant:
    """Period: the 30 days before `now`. Expected figures are written next to each row."""

    def __init__(self):
        self.now = timezone.now()
        self.start, self.end = self.now - 30 * DAY, self.now
        self.site = SiteFactory(code="known")
        self.planner = PlannerFactory(username="planner-known", sites=[self.site])
        self.technician = TechnicianFactory(username="tech-known", sites=[self.site])
        pump, fan = EquipmentClassFactory(code="pump"), EquipmentClassFactory(code="fan")
        # 4 pumps in service + 1 decommissioned (not counted), 1 fan.
        self.pumps = [
            AssetFactory(site=self.site, tag=f"P-{i}", equipment_class=pump) for i in range(4)
        ]
        AssetFactory(
            site=self.site, tag="P-OLD", equipment_class=pump, state=AssetState.DECOMMISSIONED
        )
        self.fan = AssetFactory(site=self.site, tag="FAN-1", equipment_class=fan)
        p0, p1 = self.pumps[0], self.pumps[1]

        # Failures in the period: pumps 4 (P-0 three times with the alert's work order below,
        # P-1 once), fan 2 (one from an alert). MTBF pump = 720 h x 4 / 4 = 720 h;
        # fan = 720 h x 1 / 2 = 360 h. MTTR pump = (2 h + 4 h) / 2 = 3 h; fan = 1 h.
        self.repair(p0, days_ago=10, hours=2)
        self.repair(p0, days_ago=5, hours=4, type=WorkOrderType.CONDITION_BASED)
        self.open_failure = self.work(p1, days_ago=3, status=Status.APPROVED)
        self.repair(self.fan, days_ago=8, hours=1)
        # Not failures: cancelled, or reported before the period.
        self.work(p1, days_ago=2, status=Status.CANCELLED)
        self.repair(p1, days_ago=40, hours=9)

        # PM: 4 due in the period: 1 on time, 1 late, 1 open, 1 cancelled -> 25 %.
        plan = PMPlanFactory(site=self.site, asset=p0)
        self.pm(plan, due_days_ago=20, done_days_ago=21)  # on time
        self.pm(plan, due_days_ago=15, done_days_ago=12)  # late
        self.pm(plan, due_days_ago=4, status=Status.SCHEDULED)  # not done
        self.pm(plan, due_days_ago=6, status=Status.CANCELLED)  # skipped: a miss
        self.pm(plan, due_days_ago=45, done_days_ago=46)  # before the period
        self.pm(plan, due_days_ago=-5, status=Status.SCHEDULED)  # due after now

        # Alerts: 5 received in the period -> 3 processed with a work order -> 2 work orders.
        gateway = GatewayFactory(site=self.site)
        from_alert = {"source": Source.ALERT, "type": WorkOrderType.CONDITION_BASED}
        self.alert_wo_1 = self.work(p0, days_ago=9, **from_alert, condition="vib")
        self.alert_wo_2 = self.work(self.fan, days_ago=6, **from_alert, condition="temp")
        for n, (status, wo, days_ago) in enumerate(
            [
                (AlertStatus.PROCESSED, self.alert_wo_1, 7),
                (AlertStatus.PROCESSED, self.alert_wo_1, 6),
                (AlertStatus.PROCESSED, self.alert_wo_2, 6),
                (AlertStatus.RECORDED, None, 5),
                (AlertStatus.UNMATCHED, None, 1),
                (AlertStatus.PROCESSED, self.alert_wo_1, 35),  # before the period
            ]
        ):
            Alert.objects.create(
                gateway=gateway,
                site=self.site,
                alert_id=f"a-{n}",
                asset=None if status == AlertStatus.UNMATCHED else p0,
                asset_tag="P-0" if status != AlertStatus.UNMATCHED else "P-999",
                condition="vib",
                severity="major",
                observed_at=self.now - days_ago * DAY,
                received_at=self.now - days_ago * DAY,
                status=status,
                work_order=wo,
            )

    def work(self, asset, *, days_ago, status=Status.REQUESTED, **fields):
        fields.setdefault("type", WorkOrderType.CORRECTIVE)
        wo = WorkOrderFactory(site=self.site, asset=asset, **fields)
        move_to(wo, status)
        return backdate(wo, created_at=self.now - days_ago * DAY)

    def repair(self, asset, *, days_ago, hours, **fields):
        wo = self.work(asset, days_ago=days_ago, status=Status.CLOSED, **fields)
        started = self.now - days_ago * DAY + HOUR
        return backdate(wo, started_at=started, completed_at=started + hours * HOUR)

    def pm(self, plan, *, due_days_ago, done_days_ago=None, status=Status.CLOSED):
        wo = WorkOrderFactory(
            site=self.site,
            asset=plan.asset,
            type=WorkOrderType.PREVENTIVE,
            source=Source.PM,
            pm_plan=plan,
            priority=Priority.LOW,
        )
        move_to(wo, status)
        due = self.now - due_days_ago * DAY
        times = {"planned_due_at": due, "due_at": due, "created_at": due - 7 * DAY}
        if done_days_ago is not None:
            times["completed_at"] = self.now - done_days_ago * DAY
        return backdate(wo, **times)


@pytest.fixture
def known(db):
    return KnownPlant()


@pytest.fixture(autouse=True)
def import_files_in_a_test_folder(settings, tmp_path):
    """Import files waiting for confirmation stay in the test's own folder."""
    settings.IMPORT_TMP_DIR = tmp_path / "imports"


@pytest.fixture
def plant():
    """A plant of its own (tests/world.py: Plant) for the planner's admin pages."""
    return Plant("pla")


@pytest.fixture
def planner(client, plant):
    """The test client logged in as the plant's planner (a client, not the user)."""
    client.force_login(plant.planner)
    return client
