"""Calendar arithmetic of PM plans: pure functions, no database.

Due dates are computed as local dates in the site's time zone and turned into instants
only at the end, so a plan due at 06:00 stays at 06:00 local across daylight-saving
changes. Months are added to the original anchor day and clamped to the month's length:
31 Jan + 1 month is 28/29 Feb, + 2 months is 31 Mar (a fixed schedule never drifts).
"""

import calendar
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pm.choices import IntervalUnit

# The most occurrences one generation run produces for one plan and asset: a plan that was
# missed for longer is caught up over the next runs instead of flooding one run.
MAX_CATCH_UP = 60


def add_months(day: date, months: int, *, anchor_day: int | None = None) -> date:
    """`day` moved by `months`, on `anchor_day` (default: its own day) clamped to month length."""
    anchor_day = anchor_day or day.day
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(anchor_day, calendar.monthrange(year, month)[1]))


def add_interval(day: date, count: int, unit: str, *, anchor_day: int | None = None) -> date:
    """`day` plus `count` days, weeks or months."""
    if unit == IntervalUnit.DAY:
        return day + timedelta(days=count)
    if unit == IntervalUnit.WEEK:
        return day + timedelta(weeks=count)
    if unit == IntervalUnit.MONTH:
        return add_months(day, count, anchor_day=anchor_day)
    raise ValueError(f"Unknown interval unit {unit!r}")


def nth_due_date(start: date, interval: int, unit: str, n: int) -> date:
    """The n-th (0-based) due date of a fixed schedule: always counted from `start`."""
    return add_interval(start, interval * n, unit, anchor_day=start.day)


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The moment `day` at `at` o'clock in the zone `tz`.

    A wall time that does not exist (skipped by a spring-forward change) resolves with the
    offset in force before the change, i.e. one hour later on the new clock.
    """
    return datetime.combine(day, at, tzinfo=tz)


def local_date(instant: datetime, tz: ZoneInfo) -> date:
    return instant.astimezone(tz).date()


def _first_index_from(start: date, interval: int, unit: str, day: date) -> int:
    """The smallest n with nth_due_date(n) >= day (0 when `day` is before `start`)."""
    if day <= start:
        return 0
    if unit == IntervalUnit.MONTH:
        months = (day.year - start.year) * 12 + day.month - start.month
        n = max(0, months // interval - 1)
    else:
        step = interval * (7 if unit == IntervalUnit.WEEK else 1)
        n = max(0, (day - start).days // step - 1)
    while nth_due_date(start, interval, unit, n) < day:
        n += 1
    return n


def fixed_due_dates(
    *,
    start: date,
    interval: int,
    unit: str,
    at: time,
    tz: ZoneInfo,
    after: datetime,
    until: datetime,
    ends_on: date | None = None,
    limit: int = MAX_CATCH_UP,
) -> Iterator[datetime]:
    """Due instants of a fixed schedule strictly after `after` and at most `until`."""
    n = _first_index_from(start, interval, unit, local_date(after, tz))
    produced = 0
    while produced < limit:
        day = nth_due_date(start, interval, unit, n)
        n += 1
        if ends_on is not None and day > ends_on:
            return
        due = local_instant(day, at, tz)
        if due <= after:
            continue
        if due > until:
            return
        produced += 1
        yield due


def floating_due(
    *, finished_at: datetime, interval: int, unit: str, at: time, tz: ZoneInfo
) -> datetime:
    """The due instant of a floating schedule: `interval` after the local day of completion."""
    return local_instant(add_interval(local_date(finished_at, tz), interval, unit), at, tz)
