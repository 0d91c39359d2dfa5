"""SLA attainment per contract and period, from the SLA fields stored on work orders.

**Definition** (`DEFINITION`, shown wherever the figure is). A work order under a contract is
*judged* once its resolution is decided: when it is completed on or before its resolution due
date (met), or when that due date passes without completion (missed). It is judged in the
period where that moment falls, `least(completed_at, resolution_due_at)`, once that moment is
past (before `now`). So every work order counts in exactly one period, and a month's figure
does not change after the month ends, except for work completed late (it stays missed).

Of the work judged in the period (cancelled work and work without due dates excluded; work
paused on a clock-stopping hold is judged when it resumes, since its due dates still move):

- response met: it first went in progress on or before its response due date
  (`started_at <= response_due_at`);
- resolution met: completed on or before its resolution due date
  (`completed_at <= resolution_due_at`);
- both met: the two together.

Each is a share of the work judged, in percent with one decimal. The contracts app sits below
the work orders, so it reads them through a queryset its caller passes (already scoped to the
user's sites) and names their fields and the cancelled status as strings (a test keeps them
equal to `workorders.choices`).
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce, Least

CANCELLED = "cancelled"

DEFINITION = (
    "Work under the contract whose resolution was decided in the period: completed on or "
    "before its resolution due date (met), or its resolution due date passed without "
    "completion (missed); cancelled work is left out and work paused on a clock-stopping hold "
    "waits until it resumes. Response met: it went in progress on or before its response due "
    "date. Resolution met: completed on or before its resolution due date. Each as a share "
    "of the work judged."
)

JUDGED_AT = Least(Coalesce(F("completed_at"), F("resolution_due_at")), F("resolution_due_at"))
RESPONSE_MET = Q(started_at__isnull=False, started_at__lte=F("response_due_at"))
RESOLUTION_MET = Q(completed_at__isnull=False, completed_at__lte=F("resolution_due_at"))


def _percent(part: int, whole: int) -> float | None:
    return None if not whole else round(100 * part / whole, 1)


@dataclass(frozen=True)
class Attainment:
    """One contract's SLA attainment over one period (see the module's definition)."""

    judged: int = 0
    response_met: int = 0
    resolution_met: int = 0
    both_met: int = 0

    @property
    def response_percent(self) -> float | None:
        return _percent(self.response_met, self.judged)

    @property
    def resolution_percent(self) -> float | None:
        return _percent(self.resolution_met, self.judged)

    @property
    def both_percent(self) -> float | None:
        return _percent(self.both_met, self.judged)


def judged_work(work_orders: QuerySet, *, now: datetime) -> QuerySet:
    """The work orders that can be judged at all (under a contract, with due dates, not
    cancelled, not paused while open), annotated with `judged_at`, which must be before now."""
    return (
        work_orders.filter(contract__isnull=False, resolution_due_at__isnull=False)
        .exclude(status=CANCELLED)
        .filter(Q(sla_paused_since__isnull=True) | Q(completed_at__isnull=False))
        .annotate(judged_at=JUDGED_AT)
        .filter(judged_at__lt=now)
    )


def attainment_by_contract(
    work_orders: QuerySet, *, periods: dict[str, tuple[datetime, datetime]], now: datetime
) -> dict[int, dict[str, Attainment]]:
    """{contract id: {period name: Attainment}} for each named half-open period
    `(start, end)`, in one grouped query whatever the number of work orders or contracts.

    A contract with no work judged in any of the periods is absent.
    """
    aggregates = {}
    for name, (start, end) in periods.items():
        inside = Q(judged_at__gte=start, judged_at__lt=end)
        aggregates[f"{name}__judged"] = Count(Value(1), filter=inside)
        aggregates[f"{name}__response_met"] = Count(Value(1), filter=inside & RESPONSE_MET)
        aggregates[f"{name}__resolution_met"] = Count(Value(1), filter=inside & RESOLUTION_MET)
        aggregates[f"{name}__both_met"] = Count(
            Value(1), filter=inside & RESPONSE_MET & RESOLUTION_MET
        )
    first = min(start for start, _ in periods.values())
    last = max(end for _, end in periods.values())
    rows = (
        judged_work(work_orders, now=now)
        .filter(judged_at__gte=first, judged_at__lt=last)
        .order_by()
        .values("contract_id")
        .annotate(**aggregates)
    )
    result: dict[int, dict[str, Attainment]] = {}
    for row in rows:
        by_period = {
            name: Attainment(
                judged=row[f"{name}__judged"],
                response_met=row[f"{name}__response_met"],
                resolution_met=row[f"{name}__resolution_met"],
                both_met=row[f"{name}__both_met"],
            )
            for name in periods
        }
        if any(a.judged for a in by_period.values()):
            result[row["contract_id"]] = by_period
    return result
