"""The test suite's clock: move it for the whole run, or run a test under several clocks.

- `CMMS_TEST_CLOCK` moves the clock of the whole run (this process) with time-machine, ticking
  from there: either a site wall time, `23:55`, meaning that time today at a site in
  `SITE_ZONE` (the one nearest the real time, so browsers, which keep the real clock, stay
  within their cookies' lifetimes), or an instant with an offset,
  `2026-03-29T01:55:00+01:00`, to reproduce a failure at that moment.
- The `site_clock` fixture runs a test once per clock in `SITE_CLOCKS` (midday and just before
  the site's midnight); time-sensitive modules use it for every test.
- The `real_clock` fixture puts the machine's clock back for tests that talk to real worker or
  server processes, which time-machine cannot reach: their signatures and timestamps must agree.
"""

import os
import time as time_module
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import time_machine

# The time zone of the factories' sites (tests.factories.SiteFactory).
SITE_ZONE = ZoneInfo("Europe/Berlin")
SITE_CLOCKS = {"midday": time(12, 0), "before-midnight": time(23, 50)}


def real_now() -> datetime:
    """The machine's clock, even while time-machine has moved this process's clock."""
    hatch = time_machine.escape_hatch
    now = hatch.time.time() if hatch.is_travelling() else time_module.time()
    return datetime.fromtimestamp(now, tz=SITE_ZONE)


def site_wall_time_today(at: time) -> datetime:
    """`at` o'clock at the site on the day that puts it nearest the real time (within 12
    hours), so cookies, signatures and caches that another process checks stay valid."""
    now = real_now()
    candidates = [
        datetime.combine(now.date() + timedelta(days=shift), at, tzinfo=SITE_ZONE)
        for shift in (-1, 0, 1)
    ]
    return min(candidates, key=lambda instant: abs(instant - now))


def parse_clock(value: str) -> datetime:
    """A `CMMS_TEST_CLOCK` value as an aware instant (ValueError when it is neither form)."""
    value = value.strip()
    if len(value) <= 8 and ":" in value:
        return site_wall_time_today(time.fromisoformat(value))
    instant = datetime.fromisoformat(value)
    if instant.utcoffset() is None:
        raise ValueError(f"CMMS_TEST_CLOCK {value!r} needs an offset (or give a wall time, 23:55)")
    return instant


def suite_clock() -> datetime | None:
    value = os.environ.get("CMMS_TEST_CLOCK", "")
    return parse_clock(value) if value else None


def end_of_site_day(now: datetime, zone: ZoneInfo = SITE_ZONE) -> datetime:
    """The next midnight at the site after `now`."""
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time.min, tzinfo=zone)
