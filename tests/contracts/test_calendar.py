"""Business-time arithmetic (contracts/calendar.py): hand cases and properties."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.calendar import WorkingTime, add_business_seconds, business_seconds_between

BERLIN = ZoneInfo("Europe/Berlin")
HOUR = 3600


def at(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


OFFICE = WorkingTime.build(tz=BERLIN)  # Mon-Fri 08:00-17:00
# 2026-03-27 is a Friday; Europe/Berlin springs forward on Sunday 2026-03-29 and falls back on
# Sunday 2026-10-25.


def test_time_inside_one_working_day_counts_in_full():
    assert business_seconds_between(OFFICE, at(2026, 3, 24, 9), at(2026, 3, 24, 11)) == 2 * HOUR


def test_nights_and_weekends_do_not_count():
    friday_4pm, monday_9am = at(2026, 3, 20, 16), at(2026, 3, 23, 9)
    assert business_seconds_between(OFFICE, friday_4pm, monday_9am) == 2 * HOUR


def test_adding_past_the_end_of_friday_continues_on_monday_morning():
    assert add_business_seconds(OFFICE, at(2026, 3, 20, 16), 4 * HOUR) == at(2026, 3, 23, 11)


def test_a_start_outside_working_time_counts_from_the_next_window():
    saturday = at(2026, 3, 21, 10)
    assert add_business_seconds(OFFICE, saturday, 1 * HOUR) == at(2026, 3, 23, 9)
    assert add_business_seconds(OFFICE, at(2026, 3, 23, 6), 1 * HOUR) == at(2026, 3, 23, 9)
    assert add_business_seconds(OFFICE, at(2026, 3, 23, 20), 1 * HOUR) == at(2026, 3, 24, 9)


def test_holidays_are_skipped():
    easter_monday = date(2026, 4, 6)
    calendar = WorkingTime.build(tz=BERLIN, holidays=[easter_monday, date(2026, 4, 3)])
    thursday_4pm = at(2026, 4, 2, 16)
    assert add_business_seconds(calendar, thursday_4pm, 2 * HOUR) == at(2026, 4, 7, 9)
    assert business_seconds_between(calendar, thursday_4pm, at(2026, 4, 7, 9)) == 2 * HOUR


def test_working_hours_stay_wall_clock_hours_across_a_daylight_saving_change():
    friday_4pm = at(2026, 3, 27, 16)  # UTC+1; Monday is UTC+2
    due = add_business_seconds(OFFICE, friday_4pm, 2 * HOUR)
    assert due == at(2026, 3, 30, 9)
    assert due.astimezone(UTC) == datetime(2026, 3, 30, 7, tzinfo=UTC)
    assert business_seconds_between(OFFICE, friday_4pm, due) == 2 * HOUR


def test_a_window_containing_the_change_is_as_long_as_the_time_that_passed():
    every_day_small_hours = WorkingTime.build(
        tz=BERLIN, working_days=range(7), day_starts=time(0, 0), day_ends=time(6, 0)
    )
    spring = (at(2026, 3, 29, 0), at(2026, 3, 29, 23))
    autumn = (at(2026, 10, 25, 0), at(2026, 10, 25, 23))
    assert business_seconds_between(every_day_small_hours, *spring) == 5 * HOUR  # 23 h day
    assert business_seconds_between(every_day_small_hours, *autumn) == 7 * HOUR  # 25 h day


def test_a_clock_paused_and_resumed_across_a_weekend_loses_only_business_time():
    started = at(2026, 3, 19, 9)  # Thursday
    target = 16 * HOUR
    paused, resumed = at(2026, 3, 20, 15), at(2026, 3, 23, 10)  # Friday 15:00 to Monday 10:00
    paused_seconds = business_seconds_between(OFFICE, paused, resumed)
    assert paused_seconds == 4 * HOUR  # Friday 15-17 and Monday 8-10
    due = add_business_seconds(OFFICE, started, target + paused_seconds)
    # 16 h from Thursday 09:00 is Friday 16:00 without the pause; four more business hours.
    assert due == at(2026, 3, 23, 11)


def test_the_calendar_clock_counts_every_hour_of_the_week():
    around = WorkingTime.build(tz=BERLIN, around_the_clock=True)
    friday_4pm = at(2026, 3, 27, 16)
    assert add_business_seconds(around, friday_4pm, 48 * HOUR) == at(2026, 3, 29, 17)
    assert business_seconds_between(around, friday_4pm, at(2026, 3, 29, 16)) == 47 * HOUR


def test_long_spans_skip_whole_weeks_and_agree_with_day_by_day_counting():
    start = at(2026, 1, 5, 12)
    calendar = WorkingTime.build(tz=BERLIN, holidays=[date(2026, 5, 1), date(2026, 12, 25)])
    end = at(2027, 1, 5, 12)
    assert business_seconds_between(calendar, start, end) == _day_by_day(calendar, start, end)


def _day_by_day(calendar: WorkingTime, a: datetime, b: datetime) -> float:
    total, day = timedelta(0), a.astimezone(calendar.tz).date()
    while day <= b.astimezone(calendar.tz).date():
        window = calendar.window(day)
        if window:
            lo, hi = max(window[0], a.astimezone(UTC)), min(window[1], b.astimezone(UTC))
            total += max(hi - lo, timedelta(0))
        day += timedelta(days=1)
    return total.total_seconds()


instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=0))
calendars = st.builds(
    WorkingTime.build,
    tz=st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Sydney", "UTC"]),
    working_days=st.sets(st.integers(0, 6), min_size=1),
    day_starts=st.sampled_from([time(0, 0), time(1, 30), time(2, 30), time(8, 0)]),
    day_ends=st.sampled_from([time(12, 0), time(17, 0), time(23, 59)]),
    holidays=st.lists(st.dates(date(2025, 1, 1), date(2029, 1, 31)), max_size=20),
    around_the_clock=st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(calendar=calendars, start=instants, seconds=st.integers(0, 60 * 24 * HOUR))
def test_adding_business_time_then_measuring_it_gives_it_back(calendar, start, seconds):
    due = add_business_seconds(calendar, start, seconds)
    assert due >= start
    assert business_seconds_between(calendar, start, due) == seconds


@settings(max_examples=300, deadline=None)
@given(calendar=calendars, a=instants, b=instants)
def test_measuring_then_adding_reaches_the_end_or_the_last_working_moment_before_it(calendar, a, b):
    a, b = min(a, b), max(a, b)
    reached = add_business_seconds(calendar, a, business_seconds_between(calendar, a, b))
    assert reached <= b
    assert business_seconds_between(calendar, reached, b) == 0


@settings(max_examples=200, deadline=None)
@given(calendar=calendars, a=instants, b=instants, c=instants)
def test_business_time_adds_up_over_consecutive_spans(calendar, a, b, c):
    a, b, c = sorted((a, b, c))
    whole = business_seconds_between(calendar, a, c)
    assert whole == business_seconds_between(calendar, a, b) + business_seconds_between(
        calendar, b, c
    )
    assert whole == _day_by_day(calendar, a, c) or calendar.around_the_clock
