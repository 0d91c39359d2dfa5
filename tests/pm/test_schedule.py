from datetime import UTC, date, datetime, time, timedelta
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


def dues(start, interval, unit, after, until=datetime(2040, 1, 1, tzinfo=UTC), **kw):
    kw.setdefault("at", time(6))
    kw.setdefault("tz", BERLIN)
    return list(
        schedule.fixed_due_dates(
            start=start, interval=interval, unit=unit, after=after, until=until, **kw
        )
    )


def local_days(instants, tz=BERLIN):
    return [d.astimezone(tz).date() for d in instants]


# --------------------------------------------------------------------------- floating


@pytest.mark.parametrize(
    ("tz", "finished", "expected"),
    [
        # 20:30 in Chicago on 3 March is 02:30 UTC on 4 March: the local day counts.
        (CHICAGO, datetime(2025, 3, 4, 2, 30, tzinfo=UTC), datetime(2025, 4, 3, 6, 0)),
        # 23:59 in Berlin on 31 January is 22:59 UTC the same day.
        (BERLIN, datetime(2025, 1, 31, 22, 59, tzinfo=UTC), datetime(2025, 2, 28, 6, 0)),
        # 00:30 in Berlin on 1 February is still 31 January in UTC.
        (BERLIN, datetime(2025, 1, 31, 23, 30, tzinfo=UTC), datetime(2025, 3, 1, 6, 0)),
    ],
)
def test_a_floating_schedule_counts_from_the_local_day_of_completion(tz, finished, expected):
    due = schedule.floating_due(finished_at=finished, interval=1, unit="month", at=time(6), tz=tz)
    assert due == expected.replace(tzinfo=tz)
    assert due.astimezone(tz).date() == expected.date()


def test_a_floating_weekly_schedule_finished_late_in_the_evening_keeps_the_local_day():
    finished = datetime(2025, 6, 11, 3, 0, tzinfo=UTC)  # 22:00 on 10 June in Chicago (CDT)
    due = schedule.floating_due(
        finished_at=finished, interval=2, unit="week", at=time(7), tz=CHICAGO
    )
    assert due.astimezone(UTC) == datetime(2025, 6, 24, 12, 0, tzinfo=UTC)


def test_local_date_is_the_date_in_the_zone():
    instant = datetime(2025, 3, 4, 2, 30, tzinfo=UTC)
    assert schedule.local_date(instant, CHICAGO) == date(2025, 3, 3)
    assert schedule.local_date(instant, BERLIN) == date(2025, 3, 4)


# --------------------------------------------------------------------------- daylight saving


def test_a_wall_time_in_the_spring_gap_resolves_one_hour_later_on_the_new_clock():
    # Berlin skips 02:00-03:00 on 30 March 2025: 02:30 is taken with the winter offset.
    instant = schedule.local_instant(date(2025, 3, 30), time(2, 30), BERLIN)
    assert instant.astimezone(UTC) == datetime(2025, 3, 30, 1, 30, tzinfo=UTC)
    assert instant.astimezone(UTC).astimezone(BERLIN).time() == time(3, 30)


def test_a_wall_time_in_the_autumn_overlap_is_the_first_of_the_two():
    # Berlin repeats 02:00-03:00 on 26 October 2025: 02:30 is taken in summer time.
    instant = schedule.local_instant(date(2025, 10, 26), time(2, 30), BERLIN)
    assert instant.astimezone(UTC) == datetime(2025, 10, 26, 0, 30, tzinfo=UTC)


def test_daily_due_dates_inside_the_gap_and_the_overlap_are_each_generated_once():
    spring = dues(date(2025, 3, 29), 1, "day", datetime(2025, 3, 28, tzinfo=UTC), at=time(2, 30))
    assert [d.astimezone(UTC) for d in spring[:3]] == [
        datetime(2025, 3, 29, 1, 30, tzinfo=UTC),
        datetime(2025, 3, 30, 1, 30, tzinfo=UTC),
        datetime(2025, 3, 31, 0, 30, tzinfo=UTC),
    ]
    autumn = dues(date(2025, 10, 25), 1, "day", datetime(2025, 10, 24, tzinfo=UTC), at=time(2, 30))
    assert [d.astimezone(UTC) for d in autumn[:3]] == [
        datetime(2025, 10, 25, 0, 30, tzinfo=UTC),
        datetime(2025, 10, 26, 0, 30, tzinfo=UTC),
        datetime(2025, 10, 27, 1, 30, tzinfo=UTC),
    ]


# --------------------------------------------------------------------------- long spans


def test_a_monthly_schedule_years_after_its_start_keeps_the_anchor_day():
    found = dues(date(2020, 1, 31), 1, "month", datetime(2027, 5, 15, tzinfo=UTC))
    assert local_days(found[:3]) == [date(2027, 5, 31), date(2027, 6, 30), date(2027, 7, 31)]


def test_a_quarterly_schedule_years_after_its_start():
    found = dues(date(2020, 1, 31), 3, "month", datetime(2026, 8, 1, tzinfo=UTC))
    assert local_days(found[:3]) == [date(2026, 10, 31), date(2027, 1, 31), date(2027, 4, 30)]


def test_a_monthly_due_date_on_the_day_of_after_but_later_in_the_day_is_kept():
    after = datetime(2026, 7, 15, 0, 0, tzinfo=BERLIN)
    found = dues(date(2020, 1, 15), 1, "month", after)
    assert local_days(found[:2]) == [date(2026, 7, 15), date(2026, 8, 15)]


@pytest.mark.parametrize(
    ("after_hour", "expected"),
    [(5, [date(2026, 11, 30), date(2026, 12, 14)]), (7, [date(2026, 12, 14), date(2026, 12, 28)])],
)
def test_a_fortnightly_schedule_years_after_its_start(after_hour, expected):
    after = datetime(2026, 11, 30, after_hour, 0, tzinfo=BERLIN)
    found = dues(date(2020, 1, 6), 2, "week", after)
    assert local_days(found[:2]) == expected


def test_an_every_three_days_schedule_eleven_years_after_its_start():
    found = dues(date(2019, 12, 30), 3, "day", datetime(2031, 2, 1, tzinfo=UTC))
    assert local_days(found[:2]) == [date(2031, 2, 3), date(2031, 2, 6)]


def test_a_weekly_schedule_years_after_its_start_lands_on_the_same_weekday():
    found = dues(date(2021, 3, 3), 1, "week", datetime(2029, 1, 1, tzinfo=UTC))
    assert local_days(found[:2]) == [date(2029, 1, 3), date(2029, 1, 10)]


def test_the_nth_due_date_is_counted_from_the_start_not_from_the_previous_one():
    assert schedule.nth_due_date(date(2024, 1, 31), 1, "month", 13) == date(2025, 2, 28)
    assert schedule.nth_due_date(date(2024, 1, 31), 1, "month", 14) == date(2025, 3, 31)
    assert schedule.nth_due_date(date(2024, 2, 29), 12, "month", 4) == date(2028, 2, 29)
    assert schedule.nth_due_date(date(2024, 2, 29), 12, "month", 1) == date(2025, 2, 28)
    assert schedule.nth_due_date(date(2025, 1, 1), 2, "week", 3) == date(2025, 2, 12)
    assert schedule.nth_due_date(date(2025, 1, 1), 10, "day", 3) == date(2025, 1, 31)


def test_adding_months_across_several_years_and_backwards():
    assert schedule.add_months(date(2025, 11, 30), 27) == date(2028, 2, 29)
    assert schedule.add_months(date(2025, 3, 31), -1) == date(2025, 2, 28)
    assert schedule.add_months(date(2025, 1, 10), 12) == date(2026, 1, 10)
    assert schedule.add_months(date(2025, 2, 28), 1, anchor_day=31) == date(2025, 3, 31)


def test_an_unknown_interval_unit_is_refused():
    with pytest.raises(ValueError, match="Unknown interval unit 'year'"):
        schedule.add_interval(date(2025, 1, 1), 1, "year")


# --------------------------------------------------------------------------- boundaries


def test_a_due_date_exactly_at_after_is_left_out_and_one_exactly_at_until_is_kept():
    at_six = datetime(2025, 5, 2, 6, 0, tzinfo=BERLIN)
    found = dues(date(2025, 5, 1), 1, "day", after=at_six, until=at_six + timedelta(days=2))
    assert found == [
        datetime(2025, 5, 3, 6, 0, tzinfo=BERLIN),
        datetime(2025, 5, 4, 6, 0, tzinfo=BERLIN),
    ]


def test_a_due_date_one_microsecond_after_until_is_left_out():
    until = datetime(2025, 5, 3, 5, 59, 59, 999999, tzinfo=BERLIN)
    found = dues(date(2025, 5, 1), 1, "day", after=datetime(2025, 5, 1, tzinfo=BERLIN), until=until)
    assert local_days(found) == [date(2025, 5, 1), date(2025, 5, 2)]


def test_nothing_is_due_when_until_is_before_the_first_due_date():
    assert (
        dues(
            date(2025, 5, 10),
            1,
            "day",
            datetime(2025, 5, 1, tzinfo=UTC),
            datetime(2025, 5, 9, tzinfo=UTC),
        )
        == []
    )


def test_an_after_before_the_start_begins_with_the_start():
    found = dues(date(2025, 5, 10), 1, "month", datetime(2024, 1, 1, tzinfo=UTC))
    assert local_days(found[:2]) == [date(2025, 5, 10), date(2025, 6, 10)]


def test_the_end_date_is_included_and_the_day_after_is_not():
    found = dues(
        date(2025, 5, 1), 1, "day", datetime(2025, 4, 1, tzinfo=UTC), ends_on=date(2025, 5, 3)
    )
    assert local_days(found) == [date(2025, 5, 1), date(2025, 5, 2), date(2025, 5, 3)]


def test_a_missed_year_is_caught_up_at_most_sixty_occurrences_a_run():
    assert schedule.MAX_CATCH_UP == 60
    found = dues(
        date(2025, 1, 1),
        1,
        "day",
        datetime(2024, 12, 31, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert len(found) == 60
    assert local_days([found[0], found[-1]]) == [date(2025, 1, 1), date(2025, 3, 1)]


def test_the_catch_up_limit_can_be_given():
    found = dues(date(2025, 1, 1), 1, "day", datetime(2024, 12, 31, tzinfo=UTC), limit=3)
    assert local_days(found) == [date(2025, 1, 1), date(2025, 1, 2), date(2025, 1, 3)]
    assert dues(date(2025, 1, 1), 1, "day", datetime(2024, 12, 31, tzinfo=UTC), limit=0) == []


def test_due_instants_are_at_the_plan_time_in_the_site_zone():
    [first] = dues(
        date(2025, 7, 1),
        1,
        "month",
        datetime(2025, 6, 1, tzinfo=UTC),
        limit=1,
        at=time(14, 15),
        tz=CHICAGO,
    )
    assert first.astimezone(UTC) == datetime(2025, 7, 1, 19, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "interval", "unit", "day", "expected"),
    [
        (date(2020, 1, 31), 1, "month", date(2027, 5, 15), 88),  # 31 May 2027
        (date(2020, 1, 31), 1, "month", date(2027, 5, 31), 88),
        (date(2020, 1, 31), 1, "month", date(2027, 6, 1), 89),
        (date(2020, 1, 31), 3, "month", date(2026, 8, 1), 27),  # 31 October 2026
        (date(2020, 1, 6), 2, "week", date(2026, 11, 30), 180),  # exactly a due date
        (date(2020, 1, 6), 2, "week", date(2026, 12, 1), 181),
        (date(2019, 12, 30), 3, "day", date(2031, 2, 1), 1351),  # 3 February 2031
        (date(2025, 5, 10), 1, "day", date(2025, 5, 11), 1),
        (date(2025, 5, 10), 1, "month", date(2025, 5, 10), 0),
        (date(2025, 5, 10), 1, "week", date(2024, 1, 1), 0),
    ],
)
def test_the_first_index_is_the_smallest_due_date_on_or_after_a_day(
    start, interval, unit, day, expected
):
    # Generation starts its walk here: too high skips work, too low costs a walk over years.
    assert schedule._first_index_from(start, interval, unit, day) == expected


def test_the_anchor_day_is_given_by_name_only():
    with pytest.raises(TypeError):
        schedule.add_months(date(2025, 1, 31), 1, 31)
    with pytest.raises(TypeError):
        schedule.add_interval(date(2025, 1, 31), 1, "month", 31)
