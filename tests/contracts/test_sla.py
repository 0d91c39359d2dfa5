"""The SLA clock of work under a contract (contracts/sla.py, hooked into work order writes)."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contracts import sla
from contracts.choices import SLA_WORK_TYPES, ClientApproval, SlaClock, SlaState
from tests.factories import (
    AssetFactory,
    BusinessCalendarFactory,
    ContractFactory,
    SiteFactory,
    WorkOrderFactory,
    move_to,
)
from workorders import services
from workorders.bulk import _with_sla_clocks, work_orders_create_bulk
from workorders.choices import HoldReason, Priority, Status, WorkOrderType
from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
TUESDAY_9AM = datetime(2026, 3, 24, 9, tzinfo=BERLIN)
TICK = timedelta(microseconds=1)


def at(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


@pytest.fixture
def site():
    return SiteFactory(timezone="Europe/Berlin")


@pytest.fixture
def contract(site):
    # P3: respond within 4 business hours, resolve within 16; at risk at 75 %.
    return ContractFactory(
        customer=site.customer,
        sites=[site],
        targets={Priority.MEDIUM: (4, 16), Priority.HIGH: (2, 8)},
        starts_on=datetime(2026, 1, 1).date(),
        pausing_hold_reasons=[HoldReason.WAITING_FOR_CLIENT],
    )


def create(site, when=TUESDAY_9AM, **fields) -> WorkOrder:
    with time_machine.travel(when, tick=False):
        return WorkOrderFactory(
            site=site, priority=fields.pop("priority", Priority.MEDIUM), **fields
        )


def transition(work_order, to, when, **kwargs):
    with time_machine.travel(when, tick=False):
        if to == Status.COMPLETED:
            return move_to(work_order, Status.COMPLETED)
        return services.work_order_transition(work_order=work_order, to=to, **kwargs)


def state_in_sql(work_order, when) -> list[str]:
    return [
        state
        for state in SlaState.values
        if WorkOrder.objects.in_sla_state(state, now=when).filter(pk=work_order.pk).exists()
    ]


def test_work_under_a_contract_is_due_in_the_sites_business_hours(site, contract):
    wo = create(site)
    assert wo.contract == contract
    assert wo.sla_started_at == TUESDAY_9AM
    assert wo.response_due_at == at(2026, 3, 24, 13)
    assert wo.response_at_risk_at == at(2026, 3, 24, 12)
    assert wo.resolution_due_at == at(2026, 3, 25, 16)  # 8 h on Tuesday, 8 on Wednesday
    assert wo.resolution_at_risk_at == at(2026, 3, 25, 12)
    assert wo.sla_state == SlaState.ON_TRACK


def test_work_created_on_friday_evening_is_due_on_monday(site, contract):
    wo = create(site, at(2026, 3, 27, 18))
    assert wo.response_due_at == at(2026, 3, 30, 12)


def test_the_sites_own_calendar_and_holidays_count(site, contract):
    calendar = BusinessCalendarFactory(site=site, working_days=[0, 1, 2, 3, 4, 5])
    calendar.holidays.create(date=at(2026, 3, 24).date(), name="Plant holiday")
    wo = create(site, at(2026, 3, 23, 16))  # Monday 16:00; Tuesday is off
    assert wo.response_due_at == at(2026, 3, 25, 11)


def test_a_calendar_target_counts_around_the_clock(site):
    ContractFactory(
        customer=site.customer,
        sites=[site],
        targets={Priority.EMERGENCY: (1, 4, SlaClock.CALENDAR)},
        starts_on=datetime(2026, 1, 1).date(),
    )
    wo = create(site, at(2026, 3, 28, 23), priority=Priority.EMERGENCY)  # Saturday night
    assert wo.response_due_at == at(2026, 3, 29, 0)
    assert wo.resolution_due_at == at(2026, 3, 29, 4)  # 02:00 is skipped that night


def test_work_outside_any_contract_has_no_clock(site):
    wo = create(site)
    assert wo.contract is None
    assert wo.response_due_at is None
    assert wo.sla_state == ""
    assert wo.sla_state_now == ""


def test_a_contract_listing_assets_covers_only_those(site, contract):
    listed = AssetFactory(site=site)
    contract.assets.set([listed])
    assert create(site, asset=listed).contract == contract
    assert create(site, asset=AssetFactory(site=site)).contract is None


def test_contracts_not_in_force_or_inactive_cover_nothing(site, contract):
    contract.ends_on = datetime(2026, 3, 1).date()
    contract.save()
    assert create(site).contract is None
    contract.ends_on = None
    contract.is_active = False
    contract.save()
    assert create(site).contract is None


def test_a_priority_without_a_target_has_a_contract_but_no_clock(site, contract):
    wo = create(site, priority=Priority.LOW)
    assert wo.contract == contract
    assert wo.response_due_at is None
    assert wo.sla_state == ""


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (at(2026, 3, 24, 12) - TICK, SlaState.ON_TRACK),
        (at(2026, 3, 24, 12), SlaState.AT_RISK),  # 75 % of 4 h used, exactly
        (at(2026, 3, 24, 13), SlaState.AT_RISK),  # due now: still met if started now
        (at(2026, 3, 24, 13) + TICK, SlaState.BREACHED),
    ],
)
def test_the_state_turns_exactly_at_its_thresholds(site, contract, moment, expected):
    wo = create(site)
    with time_machine.travel(moment, tick=False):
        assert wo.sla_state_now == expected
    assert state_in_sql(wo, moment) == [expected]


def test_a_met_response_leaves_the_resolution_to_decide(site, contract):
    wo = create(site)
    move_to(wo, Status.SCHEDULED)
    transition(wo, Status.IN_PROGRESS, at(2026, 3, 24, 12, 30))  # at risk, not late
    wo.refresh_from_db()
    assert sla.sla_state_at(wo, at(2026, 3, 24, 15)) == SlaState.ON_TRACK
    assert sla.sla_state_at(wo, at(2026, 3, 25, 12)) == SlaState.AT_RISK
    assert wo.sla_due_at is not None


def test_a_late_response_stays_breached_after_the_work_starts(site, contract):
    wo = create(site)
    move_to(wo, Status.SCHEDULED)
    transition(wo, Status.IN_PROGRESS, at(2026, 3, 24, 14))
    wo.refresh_from_db()
    assert wo.sla_state == SlaState.BREACHED
    assert state_in_sql(wo, at(2026, 3, 24, 15)) == [SlaState.BREACHED]


def test_completion_freezes_the_clock(site, contract):
    wo = create(site)
    move_to(wo, Status.SCHEDULED)
    transition(wo, Status.IN_PROGRESS, at(2026, 3, 24, 10))
    transition(wo, Status.COMPLETED, at(2026, 3, 25, 15))
    wo.refresh_from_db()
    assert wo.sla_state == SlaState.ON_TRACK
    assert sla.sla_state_at(wo, at(2026, 4, 30, 12)) == SlaState.ON_TRACK
    assert wo.resolution_due_at == at(2026, 3, 25, 16)


def test_late_completion_is_breached_for_good(site, contract):
    wo = create(site)
    move_to(wo, Status.SCHEDULED)
    transition(wo, Status.IN_PROGRESS, at(2026, 3, 24, 10))
    transition(wo, Status.COMPLETED, at(2026, 3, 26, 9))
    wo.refresh_from_db()
    assert wo.sla_state == SlaState.BREACHED
    assert state_in_sql(wo, at(2026, 4, 30, 12)) == [SlaState.BREACHED]


def test_cancelled_work_counts_in_neither_measure(site, contract):
    wo = create(site)
    transition(wo, Status.CANCELLED, at(2026, 3, 24, 15), reason="duplicate")
    wo.refresh_from_db()
    assert wo.sla_state == ""
    assert state_in_sql(wo, at(2026, 3, 24, 16)) == []


def test_a_pausing_hold_across_a_weekend_pushes_the_resolution_out_by_business_time(site, contract):
    wo = create(site, at(2026, 3, 19, 9))  # Thursday; resolution due Friday 16:00 unpaused
    move_to(wo, Status.SCHEDULED)
    transition(wo, Status.IN_PROGRESS, at(2026, 3, 19, 10))
    transition(
        wo,
        Status.ON_HOLD,
        at(2026, 3, 20, 15),
        reason="Client to confirm the shutdown",
        hold_reason=HoldReason.WAITING_FOR_CLIENT,
    )
    wo.refresh_from_db()
    assert wo.hold_reason == HoldReason.WAITING_FOR_CLIENT
    assert wo.sla_paused
    # Standing still, the state is the one at the pause, however late it gets.
    assert sla.sla_state_at(wo, at(2026, 3, 23, 9)) == SlaState.AT_RISK
    assert state_in_sql(wo, at(2026, 3, 23, 9)) == [SlaState.AT_RISK]
    transition(wo, Status.IN_PROGRESS, at(2026, 3, 23, 10))
    wo.refresh_from_db()
    assert not wo.sla_paused
    assert wo.hold_reason == ""
    assert wo.sla_paused_seconds == 4 * 3600  # Friday 15-17 and Monday 8-10
    assert wo.resolution_due_at == at(2026, 3, 23, 11)


def test_a_hold_for_a_reason_the_contract_does_not_name_keeps_the_clock_running(site, contract):
    wo = create(site)
    move_to(wo, Status.SCHEDULED)
    transition(wo, Status.IN_PROGRESS, at(2026, 3, 24, 10))
    transition(wo, Status.ON_HOLD, at(2026, 3, 24, 11), reason="Lunch")
    wo.refresh_from_db()
    assert wo.hold_reason == HoldReason.OTHER
    assert not wo.sla_paused
    assert sla.sla_state_at(wo, at(2026, 3, 26, 9)) == SlaState.BREACHED


def test_an_unknown_hold_reason_is_refused(site, contract):
    wo = create(site)
    move_to(wo, Status.IN_PROGRESS)
    with pytest.raises(ValidationError) as refused:
        services.work_order_transition(
            work_order=wo, to=Status.ON_HOLD, reason="x", hold_reason="bored"
        )
    assert "hold_reason" in refused.value.message_dict


def test_a_new_priority_moves_the_due_dates(site, contract):
    wo = create(site)
    with time_machine.travel(at(2026, 3, 24, 10), tick=False):
        services.work_order_update(work_order=wo, priority=Priority.HIGH)
    wo.refresh_from_db()
    assert wo.response_due_at == at(2026, 3, 24, 11)  # 2 h from the start, not from now
    assert wo.resolution_due_at == at(2026, 3, 24, 17)


def test_a_pending_client_approval_pauses_the_clock_when_the_contract_says_so(site, contract):
    wo = create(site)
    wo.client_approval = ClientApproval.PENDING
    sla.sla_refresh(work_order=wo, now=at(2026, 3, 24, 10))
    wo.refresh_from_db()
    assert wo.sla_paused_since == at(2026, 3, 24, 10)
    wo.client_approval = ClientApproval.APPROVED
    sla.sla_refresh(work_order=wo, now=at(2026, 3, 24, 12))
    wo.refresh_from_db()
    assert wo.sla_paused_since is None
    assert wo.sla_paused_seconds == 2 * 3600
    assert wo.response_due_at == at(2026, 3, 24, 15)


def test_approval_does_not_pause_when_the_contract_says_not(site, contract):
    contract.client_approval_pauses_clock = False
    contract.save()
    wo = create(site)
    wo.client_approval = ClientApproval.PENDING
    sla.sla_refresh(work_order=wo, now=at(2026, 3, 24, 10))
    assert WorkOrder.objects.get(pk=wo.pk).sla_paused_since is None


def test_pause_and_resume_by_hand(site, contract):
    wo = create(site)
    sla.sla_pause(work_order=wo, at=at(2026, 3, 24, 10))
    sla.sla_resume(work_order=wo, at=at(2026, 3, 24, 11, 30))
    wo.refresh_from_db()
    assert wo.sla_paused_seconds == 90 * 60
    assert wo.response_due_at == at(2026, 3, 24, 14, 30)


def test_bulk_creation_starts_the_same_clock(site, contract):
    asset = AssetFactory(site=site)
    ids = work_orders_create_bulk(
        rows=[
            {
                "site_id": site.pk,
                "asset_id": asset.pk,
                "title": "PM",
                "status": Status.SCHEDULED,
                "priority": Priority.MEDIUM,
            }
        ],
        events=[""],
        now=TUESDAY_9AM,
    )
    wo = WorkOrder.objects.get(pk=ids[0])
    assert wo.contract == contract
    assert wo.response_due_at == at(2026, 3, 24, 13)
    assert wo.sla_state == SlaState.ON_TRACK


def test_the_at_risk_share_is_the_contracts(site, contract):
    contract.at_risk_share = Decimal("0.5")
    contract.save()
    assert create(site).response_at_risk_at == at(2026, 3, 24, 11)


def test_work_outside_any_contract_costs_creation_one_query(site, django_assert_num_queries):
    with django_assert_num_queries(1):
        fields = sla.sla_fields_for_new(
            site=site, asset_id=None, priority=3, work_type="corrective", at=TUESDAY_9AM
        )
    assert fields == sla.NO_CLOCK


def test_the_reactive_work_types_named_in_contracts_are_work_order_types():
    assert set(WorkOrderType.values) >= SLA_WORK_TYPES
    assert {WorkOrderType.CORRECTIVE, WorkOrderType.CONDITION_BASED} == SLA_WORK_TYPES


@pytest.mark.parametrize("work_type", [WorkOrderType.PREVENTIVE, WorkOrderType.INSPECTION])
def test_planned_work_is_under_the_contract_without_a_clock(site, contract, work_type):
    wo = create(site, type=work_type)
    assert wo.contract == contract
    assert wo.sla_started_at is None
    assert wo.response_due_at is None and wo.resolution_due_at is None
    assert wo.sla_state == ""


def test_a_late_response_stays_late_after_a_pause_pushes_the_resolution_out(site, contract):
    wo = create(site)  # response due Tuesday 13:00
    move_to(wo, Status.SCHEDULED)
    transition(wo, Status.IN_PROGRESS, at(2026, 3, 24, 15))  # two hours late
    transition(
        wo,
        Status.ON_HOLD,
        at(2026, 3, 24, 16),
        reason="Client to confirm",
        hold_reason=HoldReason.WAITING_FOR_CLIENT,
    )
    transition(wo, Status.IN_PROGRESS, at(2026, 3, 26, 10))  # 1 + 9 + 2 business hours still
    wo.refresh_from_db()
    assert wo.sla_paused_seconds == 12 * 3600
    assert wo.response_due_at == at(2026, 3, 24, 13)  # met (late): final
    assert wo.resolution_due_at == at(2026, 3, 27, 10)  # Wednesday 16:00 + 12 business hours
    assert wo.sla_state == SlaState.BREACHED
    assert state_in_sql(wo, at(2026, 3, 26, 11)) == [SlaState.BREACHED]


def test_a_new_priority_after_the_response_moves_only_the_resolution(site, contract):
    wo = create(site)
    move_to(wo, Status.SCHEDULED)
    transition(wo, Status.IN_PROGRESS, at(2026, 3, 24, 12))  # on time for P3 (13:00)
    with time_machine.travel(at(2026, 3, 24, 12, 30), tick=False):
        services.work_order_update(work_order=wo, priority=Priority.HIGH)
    wo.refresh_from_db()
    assert wo.response_due_at == at(2026, 3, 24, 13)  # judged at 12:00 against P3's target
    assert wo.resolution_due_at == at(2026, 3, 24, 17)  # P2: 8 h from the start


def test_bulk_creation_looks_the_clock_up_once_per_priority_and_type_not_per_asset(site, contract):
    assets = [AssetFactory(site=site) for _ in range(3)]

    def rows(assets):
        return [
            {"site_id": site.pk, "asset_id": a.pk, "priority": Priority.MEDIUM, "type": kind}
            for a in assets
            for kind in (WorkOrderType.PREVENTIVE, WorkOrderType.CORRECTIVE)
        ]

    with CaptureQueriesContext(connection) as few:
        _with_sla_clocks(rows(assets[:1]), now=TUESDAY_9AM)
    with CaptureQueriesContext(connection) as many:
        out = _with_sla_clocks(rows(assets), now=TUESDAY_9AM)
    assert len(many) == len(few)
    assert {row["contract_id"] for row in out} == {contract.pk}
    assert [row["response_due_at"] for row in out[:2]] == [None, at(2026, 3, 24, 13)]
