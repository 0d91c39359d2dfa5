"""Connectivity availability of a gateway over a period, from its connectivity events.

**Definition.** Over a period, a gateway's availability is the time it was *available* (its
recorded state `online` or `late`) divided by the time it was *observed* (any state but
`never_seen`). `late` counts as available: a heartbeat is overdue but still within the grace
the planner allowed, and its data still arrives; only `offline` is downtime. The time before
its first sign of life (`never_seen`) is excluded from the period, so a gateway installed on
day 5 of 7 is judged on its 2 days. A state holds from the event that records it
(`ConnectivityEvent.at`, when the fleet check noticed) until the next event.

The state at the start of the period is the `to_state` of the last event before it; without
one, the `from_state` of the first event inside it; without any event at all, the gateway's
recorded state now (nothing changed during the period).

`availability` is pure (no database); `availability_by_gateway` reads the events of many
gateways in two queries, whatever their number.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import OuterRef, Subquery

from gateways.choices import Connectivity
from gateways.models import ConnectivityEvent, Gateway

AVAILABLE = frozenset({Connectivity.ONLINE, Connectivity.LATE})


@dataclass(frozen=True)
class Transition:
    """A gateway's state changing to `to_state` at `at` (from `from_state`)."""

    at: datetime
    from_state: str
    to_state: str


@dataclass(frozen=True)
class Availability:
    available: timedelta
    observed: timedelta

    @property
    def percent(self) -> float | None:
        """Available ÷ observed in percent (one decimal), or None when never observed."""
        if self.observed <= timedelta(0):
            return None
        return round(100 * self.available / self.observed, 1)


def availability(
    transitions: Sequence[Transition],
    *,
    start: datetime,
    end: datetime,
    state_before: str | None = None,
    state_now: str = Connectivity.NEVER_SEEN,
) -> Availability:
    """The availability over [start, end) of a gateway whose transitions inside the period
    are `transitions` (in time order); `state_before` is the state the last transition before
    `start` led to (None: no earlier transition), `state_now` its recorded state (used only
    when there is no transition at all)."""
    if state_before is not None:
        state = state_before
    elif transitions:
        state = transitions[0].from_state
    else:
        state = state_now
    available = observed = timedelta(0)
    since = start
    for transition in [*transitions, Transition(end, "", "")]:
        at = min(max(transition.at, start), end)
        span = at - since
        if state != Connectivity.NEVER_SEEN:
            observed += span
            if state in AVAILABLE:
                available += span
        state, since = transition.to_state, at
    return Availability(available=available, observed=observed)


def availability_by_gateway(gateways: Iterable[Gateway], *, start: datetime, end: datetime) -> dict:
    """{gateway pk: Availability} over [start, end) for the given gateways, in two queries:
    the state each was in before the period, and every gateway-level event inside it."""
    by_pk = {g.pk: g for g in gateways}
    if not by_pk:
        return {}
    events = ConnectivityEvent.objects.filter(gateway=OuterRef("pk"), sensor=None)
    before = dict(
        Gateway.objects.filter(pk__in=by_pk)
        .annotate(
            state_before=Subquery(
                events.filter(at__lt=start).order_by("-at", "-id").values("to_state")[:1]
            )
        )
        .values_list("pk", "state_before")
    )
    inside = defaultdict(list)
    rows = (
        ConnectivityEvent.objects.filter(
            gateway__in=list(by_pk), sensor=None, at__gte=start, at__lt=end
        )
        .order_by("at", "id")
        .values_list("gateway_id", "at", "from_state", "to_state")
    )
    for gateway_id, at, from_state, to_state in rows:
        inside[gateway_id].append(Transition(at, from_state, to_state))
    return {
        pk: availability(
            inside[pk],
            start=start,
            end=end,
            state_before=before.get(pk),
            state_now=gateway.connectivity,
        )
        for pk, gateway in by_pk.items()
    }
