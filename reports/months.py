"""Calendar months as the reports and the billing export use them: parsing `YYYY-MM`, the
month's bounds in a time zone, and the zone of a set of sites.

Only years FIRST_YEAR..LAST_YEAR are months: the bounds of a month of year 1 (in a zone east of
UTC) or of year 9999 (its end is in year 10000) do not exist as datetimes, so such a month
answers like any other malformed one instead of raising OverflowError.
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

FIRST_YEAR = 2
LAST_YEAR = 9998


def month_exists(day: date) -> bool:
    """True when the month of `day` has bounds in every zone (see the module's docstring)."""
    return FIRST_YEAR <= day.year <= LAST_YEAR


def parse_month(text: str) -> date | None:
    """`YYYY-MM` -> the month's first day, or None when it is not a month (or its year is out
    of FIRST_YEAR..LAST_YEAR)."""
    try:
        year, month = (int(part) for part in text.split("-"))
        first = date(year, month, 1) if len(text) == 7 else None
    except ValueError:
        return None
    return first if first is not None and month_exists(first) else None


def previous_month(day: date) -> date:
    """The first day of the month before `day`'s."""
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


def next_month(day: date) -> date:
    """The first day of the month after `day`'s."""
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def sites_zone(sites) -> ZoneInfo:
    """The zone of `sites` when they share one, else the server's (settings.TIME_ZONE)."""
    zones = {site.timezone for site in sites}
    return ZoneInfo(zones.pop() if len(zones) == 1 else settings.TIME_ZONE)


def month_bounds(month: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[midnight of the month's first day, midnight of the next month's first day) in `zone`,
    as aware datetimes of that zone. Compare or subtract them after `.astimezone(UTC)`: Python
    subtracts two datetimes of one zone by their wall clocks, which would lose the hour a
    daylight-saving change adds to (or takes from) the month."""
    return tuple(
        datetime.combine(day, datetime.min.time(), tzinfo=zone)
        for day in (month, next_month(month))
    )


def month_bounds_utc(month: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """`month_bounds` in UTC."""
    return tuple(moment.astimezone(UTC) for moment in month_bounds(month, zone))
