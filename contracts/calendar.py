"""Business-time arithmetic of SLA clocks: pure functions, no database.

A site works one window a day on its working weekdays, from `day_starts` to `day_ends` on the
local wall clock of its time zone, except on its holidays (local dates). Business time is the
real time elapsed inside those windows. Assumptions, stated once:

- Working hours are wall-clock hours: 08:00-17:00 is 08:00-17:00 on the day clocks change
  too. A window that contains the change itself (e.g. 00:00-12:00 on a day that skips 02:00)
  is an hour shorter or longer, because that is the time that really passed.
- A wall time skipped by a spring-forward change resolves with the offset in force before the
  change (one hour later on the new clock), as in `pm.schedule.local_instant`; an ambiguous
  one (autumn) is its first occurrence. A window that thereby ends before it starts is empty.
- A zone changes its offset at most once in any seven days (true of every zone in use), so a
  week whose first and last midnights have the same offset has only full-length windows.
- The `calendar` clock (24/7) counts every real second.

Amounts of time are `timedelta` inside (exact to the microsecond); the public functions take
and give seconds. Whole weeks without a holiday or an offset change are skipped in one step,
so thousands of clocks a beat run cost little.
"""

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ZERO = timedelta(0)
ONE_DAY = timedelta(days=1)
WEEK = 7
MIDNIGHT = time(0, 0)

# A site without its own BusinessCalendar works Monday to Friday, 08:00 to 17:00 local time.
DEFAULT_WORKING_DAYS = (0, 1, 2, 3, 4)
DEFAULT_DAY_STARTS = time(8, 0)
DEFAULT_DAY_ENDS = time(17, 0)


@dataclass(frozen=True)
class WorkingTime:
    """The hours an SLA clock runs in: a site's calendar, or around the clock."""

    tz: ZoneInfo
    working_days: frozenset[int] = frozenset(DEFAULT_WORKING_DAYS)
    day_starts: time = DEFAULT_DAY_STARTS
    day_ends: time = DEFAULT_DAY_ENDS
    holidays: tuple[date, ...] = ()
    around_the_clock: bool = False
    _week: timedelta = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if not self.around_the_clock:
            if not self.working_days:
                raise ValueError("A business calendar needs at least one working day.")
            if self.day_ends <= self.day_starts:
                raise ValueError("The working day must end after it starts.")
        object.__setattr__(self, "holidays", tuple(sorted(set(self.holidays))))
        some_day = date(2000, 1, 3)
        nominal = datetime.combine(some_day, self.day_ends) - datetime.combine(
            some_day, self.day_starts
        )
        object.__setattr__(self, "_week", nominal * len(self.working_days))

    @classmethod
    def build(
        cls,
        *,
        tz: str | ZoneInfo,
        working_days: Iterable[int] = DEFAULT_WORKING_DAYS,
        day_starts: time = DEFAULT_DAY_STARTS,
        day_ends: time = DEFAULT_DAY_ENDS,
        holidays: Iterable[date] = (),
        around_the_clock: bool = False,
    ) -> "WorkingTime":
        return cls(
            tz=tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz),
            working_days=frozenset(working_days),
            day_starts=day_starts,
            day_ends=day_ends,
            holidays=tuple(holidays),
            around_the_clock=around_the_clock,
        )

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """The working window of a local date as UTC instants, or None on a day off."""
        if day.weekday() not in self.working_days or self._is_holiday(day):
            return None
        starts = datetime.combine(day, self.day_starts, tzinfo=self.tz).astimezone(UTC)
        ends = datetime.combine(day, self.day_ends, tzinfo=self.tz).astimezone(UTC)
        return (starts, max(starts, ends))

    def _is_holiday(self, day: date) -> bool:
        i = bisect_left(self.holidays, day)
        return i < len(self.holidays) and self.holidays[i] == day

    def _plain_week(self, first: date) -> bool:
        """Whether the seven days from `first` have full-length windows and no holiday."""
        i = bisect_left(self.holidays, first)
        if i < len(self.holidays) and self.holidays[i] < first + timedelta(days=WEEK):
            return False
        before = datetime.combine(first, MIDNIGHT, tzinfo=self.tz).utcoffset()
        after = datetime.combine(first + timedelta(days=WEEK), MIDNIGHT, tzinfo=self.tz)
        return before == after.utcoffset()

    def _local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.tz).date()

    def time_between(self, a: datetime, b: datetime) -> timedelta:
        """Business time from `a` to `b` (aware); zero when `b` is not after `a`."""
        a, b = a.astimezone(UTC), b.astimezone(UTC)
        if b <= a:
            return ZERO
        if self.around_the_clock:
            return b - a
        first, last = self._local_date(a), self._local_date(b)
        total = ZERO
        day = first
        while day <= last:
            if day != first and (last - day).days >= WEEK and self._plain_week(day):
                total += self._week
                day += timedelta(days=WEEK)
                continue
            window = self.window(day)
            if window is not None:
                starts, ends = max(window[0], a), min(window[1], b)
                if ends > starts:
                    total += ends - starts
            day += ONE_DAY
        return total

    def add(self, start: datetime, amount: timedelta) -> datetime:
        """The earliest instant (UTC) at which `amount` of business time has passed since
        `start`; `start` itself for no time."""
        start = start.astimezone(UTC)
        if amount <= ZERO:
            return start
        if self.around_the_clock:
            return start + amount
        remaining = amount
        first = day = self._local_date(start)
        while True:
            if day != first and remaining > self._week and self._plain_week(day):
                remaining -= self._week
                day += timedelta(days=WEEK)
                continue
            window = self.window(day)
            if window is not None:
                begins = max(window[0], start)
                if begins < window[1]:
                    available = window[1] - begins
                    if remaining <= available:
                        return begins + remaining
                    remaining -= available
            day += ONE_DAY


def business_seconds_between(working_time: WorkingTime, a: datetime, b: datetime) -> float:
    """Seconds of business time from `a` to `b` (0 when `b` is not after `a`)."""
    return working_time.time_between(a, b).total_seconds()


def add_business_seconds(working_time: WorkingTime, start: datetime, seconds: float) -> datetime:
    """The earliest instant at which `seconds` of business time have passed since `start`."""
    return working_time.add(start, timedelta(seconds=float(seconds)))
