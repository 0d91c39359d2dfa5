"""Reads of contracts: which contract covers new work, and the hours a site's clocks run in."""

import datetime

from django.db.models import Exists, OuterRef, Q

from contracts.calendar import WorkingTime
from contracts.models import BusinessCalendar, Contract, Holiday, SlaTarget

# Holidays further ahead than this from a clock's start are not loaded: no target is that long.
HOLIDAY_HORIZON = datetime.timedelta(days=400)


def contract_for(*, site_id: int, asset_id: int | None, on: datetime.date) -> Contract | None:
    """The active contract in force on `on` that covers the site and, when the contract lists
    assets, the asset; None outside any contract. One query. Should two contracts overlap, the
    one that started last (then the highest id) wins, so the answer is stable."""
    listed = Contract.assets.through.objects.filter(contract_id=OuterRef("pk"))
    covers_asset = ~Exists(listed)
    if asset_id is not None:
        covers_asset |= Exists(listed.filter(asset_id=asset_id))
    return (
        Contract.objects.in_force(on)
        .filter(sites=site_id)
        .filter(covers_asset)
        .order_by("-starts_on", "-pk")
        .first()
    )


def sla_target(*, contract_id: int, priority: int) -> SlaTarget | None:
    return SlaTarget.objects.filter(contract_id=contract_id, priority=priority).first()


def working_time(*, site, around_the_clock: bool = False, from_day: datetime.date | None = None):
    """The hours a clock at `site` runs in: its BusinessCalendar (with its holidays from
    `from_day` on), or, without one, Monday to Friday 08:00-17:00 in the site's time zone.
    The 24/7 clock needs only the zone (no query)."""
    if around_the_clock:
        return WorkingTime.build(tz=site.timezone, around_the_clock=True)
    calendar = BusinessCalendar.objects.filter(site_id=site.pk).first()
    if calendar is None:
        return WorkingTime.build(tz=site.timezone)
    holidays = Holiday.objects.filter(calendar=calendar)
    if from_day is not None:
        holidays = holidays.filter(Q(date__gte=from_day), Q(date__lte=from_day + HOLIDAY_HORIZON))
    return WorkingTime.build(
        tz=site.timezone,
        working_days=calendar.working_days,
        day_starts=calendar.day_starts,
        day_ends=calendar.day_ends,
        holidays=holidays.values_list("date", flat=True),
    )
