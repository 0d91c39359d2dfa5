"""The SLA clock of a work order under a contract.

The clock starts when the work order is created (`sla_fields_for_new`). Each measure (response,
resolution) is due its target's hours after the start, counted in the site's business time
(or around the clock when the target says so), plus the business time the clock stood still
so far (`sla_paused_seconds`). It is at risk from the moment the used share of the target
reaches the contract's `at_risk_share`; both moments are stored (`*_at_risk_at`, `*_due_at`),
so the state is exact at any read without recomputing calendars: `sla_state_at` in Python,
`sla_state_expression` in SQL, one rule.

The clock stands still while the work is on hold for a reason the contract names (the
lifecycle keeps `hold_reason` set exactly while the work is on hold) and while the client's
approval is pending when the contract says so. While it stands still the state is the one at
the moment it stopped. Response is met when the work first went in progress (`started_at`),
resolution when it was completed (`completed_at`); once met, a measure is breached if it was
met late and on track otherwise, and the due dates no longer move. Cancelled work (closed
without being completed) has no state.

This module sits below `workorders`: it reads and writes a work order's SLA fields by name and
never imports the work order app. The write functions keep the caller's transaction and row
lock (call them on a row locked with `select_for_update` when others may write it).
"""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.db.models.lookups import GreaterThan, GreaterThanOrEqual

from contracts import selectors
from contracts.choices import SLA_WORK_TYPES, ClientApproval, SlaClock, SlaMeasure, SlaState

# The fields this module writes on a work order (for `save(update_fields=...)`).
CLOCK_FIELDS = (
    "contract",
    "sla_started_at",
    "response_due_at",
    "response_at_risk_at",
    "resolution_due_at",
    "resolution_at_risk_at",
    "sla_paused_since",
    "sla_paused_seconds",
    "sla_state",
)
# The SLA fields of work outside any contract, by attribute name.
NO_CLOCK = {
    "contract_id": None,
    "sla_started_at": None,
    "response_due_at": None,
    "response_at_risk_at": None,
    "resolution_due_at": None,
    "resolution_at_risk_at": None,
    "sla_state": "",
}
_RANK = {SlaState.ON_TRACK: 0, SlaState.AT_RISK: 1, SlaState.BREACHED: 2}
_STATE = {rank: state for state, rank in _RANK.items()}
MEASURES = {
    SlaMeasure.RESPONSE: ("started_at", "response_due_at", "response_at_risk_at"),
    SlaMeasure.RESOLUTION: ("completed_at", "resolution_due_at", "resolution_at_risk_at"),
}


# Reading the state ----------------------------------------------------------------------------


def measure_state(*, met_at, due_at, at_risk_at, clock: datetime) -> str:
    """One measure's state when the clock reads `clock` (met measures are final)."""
    if met_at is not None:
        return SlaState.BREACHED if met_at > due_at else SlaState.ON_TRACK
    if clock > due_at:
        return SlaState.BREACHED
    if at_risk_at is not None and clock >= at_risk_at:  # None: rows set without the moment
        return SlaState.AT_RISK
    return SlaState.ON_TRACK


def sla_state_at(work_order, now: datetime) -> str:
    """The work order's SLA state at `now`: the worse of its two measures ("" when it has no
    clock: outside a contract, no target for its priority, or cancelled)."""
    if work_order.response_due_at is None or _cancelled(work_order):
        return ""
    clock = work_order.sla_paused_since or now
    ranks = [
        _RANK[
            measure_state(
                met_at=getattr(work_order, met),
                due_at=getattr(work_order, due),
                at_risk_at=getattr(work_order, risk),
                clock=clock,
            )
        ]
        for met, due, risk in MEASURES.values()
    ]
    return _STATE[max(ranks)]


def state_due_at(work_order, now: datetime) -> datetime | None:
    """The due time behind the work order's state at `now`: of the worse measure (of the
    running one on a tie, the response before the resolution); None without a clock."""
    if work_order.response_due_at is None or _cancelled(work_order):
        return None
    clock = work_order.sla_paused_since or now
    best = None
    for met, due, risk in MEASURES.values():
        met_at = getattr(work_order, met)
        state = measure_state(
            met_at=met_at,
            due_at=getattr(work_order, due),
            at_risk_at=getattr(work_order, risk),
            clock=clock,
        )
        key = (_RANK[state], met_at is None)
        if best is None or key > best[0]:
            best = (key, getattr(work_order, due))
    return best[1]


def sla_state_expression(now: datetime):
    """`sla_state_at` as an SQL expression over work order rows (for filters and the beat)."""
    clock = Coalesce(F("sla_paused_since"), Value(now))

    def rank(met, due, risk):
        return Case(
            When(Q(**{f"{met}__isnull": False, f"{met}__gt": F(due)}), then=Value(2)),
            When(Q(**{f"{met}__isnull": False}), then=Value(0)),
            When(GreaterThan(clock, F(due)), then=Value(2)),
            When(GreaterThanOrEqual(clock, F(risk)), then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )

    worst = Greatest(*(rank(*fields) for fields in MEASURES.values()))
    return Case(
        When(response_due_at__isnull=True, then=Value("")),
        When(closed_at__isnull=False, completed_at__isnull=True, then=Value("")),
        When(GreaterThanOrEqual(worst, Value(2)), then=Value(SlaState.BREACHED.value)),
        When(GreaterThanOrEqual(worst, Value(1)), then=Value(SlaState.AT_RISK.value)),
        default=Value(SlaState.ON_TRACK.value),
    )


def _cancelled(work_order) -> bool:
    return work_order.closed_at is not None and work_order.completed_at is None


# Writing the clock ----------------------------------------------------------------------------


def sla_fields_for_new(*, site, asset_id, priority: int, work_type: str, at: datetime) -> dict:
    """The SLA fields (by attribute name) of a work order created at `at`: the contract
    covering it and, for reactive work (`SLA_WORK_TYPES`), its clock; empty values outside any
    contract. One query outside a contract; under one, a few more for its target and calendar."""
    zone = ZoneInfo(site.timezone)
    contract = selectors.contract_for(
        site_id=site.pk, asset_id=asset_id, on=at.astimezone(zone).date()
    )
    fields = dict(NO_CLOCK)
    if contract is None:
        return fields
    fields["contract_id"] = contract.pk
    if work_type not in SLA_WORK_TYPES:
        return fields
    fields["sla_started_at"] = at
    fields |= _due_moments(
        contract=contract, site=site, priority=priority, started_at=at, paused_seconds=0
    )
    fields["sla_state"] = SlaState.ON_TRACK if fields["response_due_at"] else ""
    return fields


def _due_moments(*, contract, site, priority, started_at, paused_seconds) -> dict:
    """The due and at-risk moments of both measures for the target of `priority`."""
    target = selectors.sla_target(contract_id=contract.pk, priority=priority)
    if target is None:
        return {
            f"{measure}_{moment}": None
            for measure in SlaMeasure.values
            for moment in ("due_at", "at_risk_at")
        }
    hours = selectors.working_time(
        site=site,
        around_the_clock=target.clock == SlaClock.CALENDAR,
        from_day=started_at.astimezone(ZoneInfo(site.timezone)).date(),
    )
    moments = {}
    for measure, target_hours in (
        (SlaMeasure.RESPONSE, target.response_hours),
        (SlaMeasure.RESOLUTION, target.resolution_hours),
    ):
        seconds = Decimal(target_hours) * 3600
        for moment, share in (("due_at", Decimal(1)), ("at_risk_at", contract.at_risk_share)):
            used = timedelta(seconds=float(seconds * share) + paused_seconds)
            moments[f"{measure}_{moment}"] = hours.add(started_at, used)
    return moments


def clock_should_stand_still(work_order) -> bool:
    """Whether the contract stops the clock for the work order as it is now."""
    if work_order.contract_id is None or work_order.completed_at is not None:
        return False
    if _cancelled(work_order):
        return False
    contract = work_order.contract
    on_hold = work_order.hold_reason and work_order.hold_reason in contract.pausing_hold_reasons
    waiting = (
        work_order.client_approval == ClientApproval.PENDING
        and contract.client_approval_pauses_clock
    )
    return bool(on_hold or waiting)


def clock_follow(work_order, *, now: datetime, reschedule: bool = False) -> None:
    """Bring the clock in line with the work order's current fields (pause or resume it, move
    the due dates when `reschedule`, e.g. for a new priority) and store its state. Sets the
    fields without saving: for callers that save the row themselves."""
    if work_order.contract_id is None or work_order.sla_started_at is None:
        return
    still = clock_should_stand_still(work_order)
    if still and work_order.sla_paused_since is None:
        work_order.sla_paused_since = now
    elif not still and work_order.sla_paused_since is not None:
        _account_pause(work_order, until=now)
        reschedule = True
    if reschedule and not _cancelled(work_order):
        _reschedule(work_order)
    work_order.sla_state = sla_state_at(work_order, now)


def _account_pause(work_order, *, until: datetime) -> None:
    """Add the business time stood still since `sla_paused_since` (in the clock of the
    priority's target) to `sla_paused_seconds`, to the second."""
    site = work_order.site
    hours = selectors.working_time(
        site=site,
        around_the_clock=_target_clock(work_order) == SlaClock.CALENDAR,
        from_day=work_order.sla_paused_since.astimezone(ZoneInfo(site.timezone)).date(),
    )
    paused = hours.time_between(work_order.sla_paused_since, until).total_seconds()
    work_order.sla_paused_seconds += round(paused)
    work_order.sla_paused_since = None


def _target_clock(work_order) -> str:
    target = selectors.sla_target(contract_id=work_order.contract_id, priority=work_order.priority)
    return target.clock if target is not None else SlaClock.BUSINESS


def _reschedule(work_order) -> None:
    """Due moments from the start, the current priority's target and the time paused; frozen
    once the work is completed."""
    if work_order.completed_at is not None:
        return
    moments = _due_moments(
        contract=work_order.contract,
        site=work_order.site,
        priority=work_order.priority,
        started_at=work_order.sla_started_at,
        paused_seconds=work_order.sla_paused_seconds,
    )
    for met, due, risk in MEASURES.values():
        if getattr(work_order, met) is not None:
            continue  # a met measure is final: a later pause or priority never re-judges it
        setattr(work_order, due, moments[due])
        setattr(work_order, risk, moments[risk])


@transaction.atomic
def sla_pause(*, work_order, at: datetime):
    """Stop the work order's clock at `at` (no change when it already stands still)."""
    if work_order.contract_id is not None and work_order.sla_paused_since is None:
        work_order.sla_paused_since = at
        work_order.sla_state = sla_state_at(work_order, at)
        work_order.save(update_fields=[*CLOCK_FIELDS, "updated_at"])
    return work_order


@transaction.atomic
def sla_resume(*, work_order, at: datetime):
    """Restart a stopped clock at `at`: the business time it stood still pushes both due
    moments out."""
    if work_order.sla_paused_since is not None:
        _account_pause(work_order, until=at)
        if not _cancelled(work_order):
            _reschedule(work_order)
        work_order.sla_state = sla_state_at(work_order, at)
        work_order.save(update_fields=[*CLOCK_FIELDS, "updated_at"])
    return work_order


@transaction.atomic
def sla_refresh(*, work_order, now: datetime):
    """Pause or resume the clock as the work order's hold reason and client approval now
    require, and store its state (the approval code calls this after a decision)."""
    clock_follow(work_order, now=now)
    if work_order.contract_id is not None:
        work_order.save(update_fields=[*CLOCK_FIELDS, "updated_at"])
    return work_order
