"""A customer with a known October 2026, so every figure of its monthly report can be worked
out by hand (the expected numbers are next to the rows and in tests/reports/test_figures.py).

The clock stands at 10 November 2026, 12:00 in Berlin (the sites' zone), so October is over
and November is the current month. October has 745 hours there: summer time ends on the 25th.
"""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from alerts.choices import AlertStatus
from alerts.models import Alert
from assets.models import Asset
from gateways.models import ConnectivityEvent
from tests.factories import (
    AssetFactory,
    ContractFactory,
    CustomerFactory,
    CustomerViewerFactory,
    EquipmentClassFactory,
    GatewayFactory,
    PlannerFactory,
    SiteFactory,
    TechnicianFactory,
    WorkOrderFactory,
)
from workorders.choices import Source, Status, WorkOrderType
from workorders.models import WorkOrder

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 10, 12, 0, tzinfo=BERLIN)


def at(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An instant of 2026 at the sites (Berlin)."""
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN)


def oct_(day, hour=0):
    return at(10, day, hour)


@pytest.fixture
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield NOW


class KnownCustomer:
    def __init__(self):
        self.customer = CustomerFactory(
            name="Acme Foods", currency="EUR", report_recipients="ops@acme.example\n"
        )
        self.site = SiteFactory(customer=self.customer, code="acme-north", name="Acme North")
        self.viewer = CustomerViewerFactory(username="viewer-acme", sites=[self.site])
        self.planner = PlannerFactory(username="planner-acme", sites=[self.site])
        self.technician = TechnicianFactory(username="tech-acme", sites=[self.site])
        self.contract = ContractFactory(
            customer=self.customer,
            reference="C-ACME-1",
            name="Full service",
            sites=[self.site],
            monthly_fee=Decimal("1000.00"),
        )
        pump, fan = EquipmentClassFactory(code="pump"), EquipmentClassFactory(code="fan")
        self.p1 = AssetFactory(site=self.site, tag="P-1", equipment_class=pump)
        self.p2 = AssetFactory(site=self.site, tag="P-2", equipment_class=pump)
        Asset.objects.filter(pk=self.p1.pk).update(downtime_cost_per_hour=Decimal("200.00"))
        Asset.objects.filter(pk=self.p2.pk).update(downtime_cost_per_hour=Decimal("150.00"))
        self.p3 = AssetFactory(site=self.site, tag="P-3", equipment_class=pump)
        self.f1 = AssetFactory(site=self.site, tag="F-1", equipment_class=fan)
        p1, p2, p3, f1 = self.p1, self.p2, self.p3, self.f1
        C, P, CB = WorkOrderType.CORRECTIVE, WorkOrderType.PREVENTIVE, WorkOrderType.CONDITION_BASED
        done, sla = Status.COMPLETED, self.sla
        # SLA in October, judged 7: response met 5, resolution met 5, both 3.
        self.w1 = self.work(p1, C, done, oct_(2, 8), oct_(2, 10), oct_(2, 14), **sla(2, 12, 3, 8))
        self.w2 = self.work(
            p1, C, done, oct_(10, 8), oct_(10, 11), oct_(10, 13), **sla(10, 10, 11, 8)
        )
        self.w3 = self.work(
            f1, C, done, oct_(20, 8), oct_(20, 9), oct_(22, 9), **sla(20, 12, 21, 8)
        )
        # Due in November, completed on 1 November: judged in November (both met).
        self.w4 = self.work(
            p2,
            C,
            done,
            oct_(30, 8),
            oct_(30, 10),
            at(11, 1, 10),
            response_due_at=oct_(30, 12),
            resolution_due_at=at(11, 2, 8),
        )
        # PM: 3 due in October (on time, late, cancelled), one due in September.
        self.w5 = self.work(
            p1,
            P,
            done,
            oct_(1, 8),
            oct_(14, 9),
            oct_(14, 11),
            source=Source.PM,
            planned_due_at=oct_(15, 12),
            **sla(15, 8, 16, 8),
        )
        self.w6 = self.work(
            p2,
            P,
            done,
            oct_(1, 8),
            oct_(21, 8),
            oct_(21, 10),
            source=Source.PM,
            planned_due_at=oct_(20, 12),
            **sla(20, 8, 25, 8),
        )
        self.w7 = self.work(
            f1,
            P,
            Status.CANCELLED,
            oct_(1, 8),
            source=Source.PM,
            planned_due_at=oct_(28, 12),
            **sla(28, 8, 29, 8),
        )
        self.work(
            p3,
            P,
            done,
            at(9, 1, 8),
            at(9, 27, 8),
            at(9, 27, 9),
            source=Source.PM,
            planned_due_at=at(9, 28, 12),
        )
        # Condition-based work from alerts, completed in October.
        self.w9 = self.work(
            p2,
            CB,
            done,
            oct_(5, 8),
            oct_(5, 9),
            oct_(5, 12),
            source=Source.ALERT,
            **sla(5, 12, 6, 8),
        )
        self.w10 = self.work(
            p1,
            CB,
            done,
            oct_(12, 8),
            oct_(12, 9),
            oct_(12, 10),
            source=Source.ALERT,
            contract=None,
        )
        self.w16 = self.work(f1, CB, done, oct_(26, 8), oct_(26, 9), oct_(26, 11), contract=None)
        # Open work: one past its resolution due (missed), one paused, one due later.
        self.w11 = self.work(
            p1, C, Status.IN_PROGRESS, oct_(29, 8), oct_(29, 9), **sla(29, 12, 31, 8)
        )
        self.work(
            p2,
            C,
            Status.ON_HOLD,
            oct_(24, 8),
            oct_(24, 9),
            sla_paused_since=oct_(24, 10),
            **sla(24, 12, 25, 8),
        )
        self.work(
            f1,
            C,
            Status.REQUESTED,
            oct_(31, 20),
            response_due_at=at(11, 19, 8),
            resolution_due_at=at(11, 20, 8),
        )
        # Repair history before October (no contract): P-1 6 h, P-3 8 h.
        self.work(p1, C, done, at(9, 10, 7), at(9, 10, 8), at(9, 10, 14), contract=None)
        self.work(p3, C, done, at(8, 3, 7), at(8, 3, 8), at(8, 3, 16), contract=None)
        # Alerts: 3 in October (2 with work, 1 recorded), 1 in September.
        gateway = GatewayFactory(site=self.site, name="North edge")
        self.gateway = gateway
        for n, (status, wo, when) in enumerate(
            [
                (AlertStatus.PROCESSED, self.w9, oct_(5, 7)),
                (AlertStatus.PROCESSED, self.w10, oct_(12, 7)),
                (AlertStatus.RECORDED, None, oct_(13, 7)),
                (AlertStatus.PROCESSED, self.w10, at(9, 30, 7)),
            ]
        ):
            Alert.objects.create(
                gateway=gateway,
                site=self.site,
                alert_id=f"a-{n}",
                asset=p1,
                asset_tag="P-1",
                condition="vib",
                severity="major",
                observed_at=when,
                received_at=when,
                status=status,
                work_order=wo,
            )
        # The gateway: first seen 11 October, offline 12 h on the 21st: 493 h of 505 h.
        for when, before, after in [
            (oct_(11), "never_seen", "online"),
            (oct_(21), "online", "offline"),
            (oct_(21, 12), "offline", "online"),
        ]:
            ConnectivityEvent.objects.create(
                gateway=gateway, from_state=before, to_state=after, at=when
            )
        # Another customer, with work in October that must never show.
        self.other_customer = CustomerFactory(name="Globex")
        self.other_site = SiteFactory(customer=self.other_customer, code="globex")
        self.other_viewer = CustomerViewerFactory(username="viewer-globex", sites=[self.other_site])
        other = AssetFactory(site=self.other_site, tag="G-1", equipment_class=pump)
        self.other_work = self.work(
            other, C, done, oct_(3, 8), oct_(3, 9), oct_(3, 10), contract=None
        )

    def sla(self, response_day, response_hour, resolution_day, resolution_hour) -> dict:
        """SLA due dates in October."""
        return {
            "response_due_at": oct_(response_day, response_hour),
            "resolution_due_at": oct_(resolution_day, resolution_hour),
        }

    def work(self, asset, type_, status, created, started=None, completed=None, **fields):
        """A work order with the stored fields the lifecycle and the SLA clock would have left."""
        fields.setdefault("contract", self.contract)
        wo = WorkOrderFactory(site=asset.site, asset=asset, type=type_)
        if fields["contract"] is not None:
            fields.setdefault("sla_started_at", created)
        WorkOrder.objects.filter(pk=wo.pk).update(
            status=status, created_at=created, started_at=started, completed_at=completed, **fields
        )
        wo.refresh_from_db()
        return wo


@pytest.fixture
def known(frozen_clock, db):
    return KnownCustomer()
