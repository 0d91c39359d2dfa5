from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from pm import schedule

BERLIN = ZoneInfo("Europe/Berlin")
CHICAGO = ZoneInfo("America/Chicago")


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2025, 1, 31), 2, date(2025, 3, 31)),
        (date(2025, 1, 31), 3, date(2025, 4, 30)),
        (date(2025, 11, 30), 3, date(2026, 2, 28)),
        (date(2025, 12, 15), 1, date(2026, 1, 15)),
    ],
)
def test_adding_months_clamps_to_the_end_of_the_month(start, months, expected):
    assert schedule.add_months(start, months) == expected


def test_a_fixed_monthly_schedule_returns_to_the_anchor_day_after_a_short_month():
    dates = [schedule.nth_due_date(date(2025, 1, 31), 1, "month", n) for n in range(4)]
    assert dates == [date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31), date(2025, 4, 30)]


def test_a_floating_schedule_counts_from_the_day_it_was_finished():
    finished = datetime(2025, 2, 3, 15, 0, tzinfo=UTC)
    due = schedule.floating_due(
        finished_at=finished, interval=1, unit="month", at=time(6), tz=BERLIN
    )
    assert due == datetime(2025, 3, 3, 6, 0, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("tz", "start", "utc_hours"),
    [
        # Berlin springs forward on 30 March 2025: 06:00 local is 05:00 UTC, then 04:00 UTC.
        (BERLIN, date(2025, 3, 29), [5, 4]),
        # Berlin falls back on 26 October 2025.
        (BERLIN, date(2025, 10, 25), [4, 5]),
        # Chicago springs forward on 9 March 2025: 06:00 local is 12:00 UTC, then 11:00 UTC.
        (CHICAGO, date(2025, 3, 8), [12, 11]),
        # Chicago falls back on 2 November 2025.
        (CHICAGO, date(2025, 11, 1), [11, 12]),
    ],
)
def test_daily_due_dates_stay_at_the_same_local_time_across_daylight_saving(tz, start, utc_hours):
    dues = list(
        schedule.fixed_due_dates(
            start=start,
            interval=1,
            unit="day",
            at=time(6),
            tz=tz,
            after=datetime(2000, 1, 1, tzinfo=UTC),
            until=datetime(2030, 1, 1, tzinfo=UTC),
            limit=2,
        )
    )
    assert [d.astimezone(UTC).hour for d in dues] == utc_hours
    assert [d.astimezone(tz).hour for d in dues] == [6, 6]


def test_fixed_due_dates_start_after_the_given_moment_and_stop_at_the_end_date():
    dues = list(
        schedule.fixed_due_dates(
            start=date(2025, 1, 6),
            interval=2,
            unit="week",
            at=time(8),
            tz=BERLIN,
            after=datetime(2025, 1, 20, 7, 0, tzinfo=BERLIN),
            until=datetime(2026, 1, 1, tzinfo=UTC),
            ends_on=date(2025, 3, 3),
        )
    )
    assert [d.date() for d in dues] == [
        date(2025, 1, 20),
        date(2025, 2, 3),
        date(2025, 2, 17),
        date(2025, 3, 3),
    ]
