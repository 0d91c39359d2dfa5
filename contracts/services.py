"""Writes to contracts and business calendars.

A contract is written whole: its fields, its sites and assets, its targets (one per priority)
and its billing rates (one per skill), checked together, because the rules cross them (assets
of its sites, sites of its customer, one contract per site and asset at a time). Targets and
billing rates given are the complete new lists: they replace the old ones.

Who writes: planners of every site the contract covers (before and after the change), since a
contract's terms change the work and the bills at each of them; superusers everywhere;
`by=None` is the system.
"""

import datetime
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from assets.models import Site
from audit.choices import AuditAction
from audit.services import audit_record, field_changes
from cmms.errors import NotPermitted
from cmms.rows import UNCHANGED, given_fields
from cmms.work import HoldReason, Priority
from contracts.models import BillingRate, BusinessCalendar, Contract, Holiday, SlaTarget

CONTRACT_FIELDS = (
    "customer",
    "reference",
    "name",
    "starts_on",
    "ends_on",
    "is_active",
    "at_risk_share",
    "pausing_hold_reasons",
    "labour_rate",
    "overtime_multiplier",
    "parts_markup_percent",
    "services_markup_percent",
    "monthly_fee",
    "fee_covers_preventive",
    "not_to_exceed",
    "client_approval_pauses_clock",
    "requires_client_signature",
)

MONDAY_TO_FRIDAY = (0, 1, 2, 3, 4)
PLANNERS_OF_ALL_SITES = "Only planners of every site of the contract change it."


def check_contract_writer(by, site_ids: Iterable[int]) -> None:
    """Raise unless `by` plans at every one of the sites (the system and superusers do)."""
    if by is None or by.is_superuser:
        return
    if not by.is_planner or not all(by.may_see_site(site_id) for site_id in site_ids):
        raise NotPermitted(PLANNERS_OF_ALL_SITES)


def may_write_contract(user, contract: Contract) -> bool:
    """Whether to offer `user` the contract's forms (the same rule as the services)."""
    try:
        check_contract_writer(user, contract.sites.values_list("id", flat=True))
    except NotPermitted:
        return False
    return True


@transaction.atomic
def contract_create(
    *,
    by=None,
    customer,
    reference: str,
    name: str,
    sites: Iterable,
    starts_on: datetime.date,
    assets: Iterable = (),
    targets: Iterable[dict] = (),
    billing_rates: Iterable[dict] = (),
    **fields,
) -> Contract:
    """Create a contract with its sites, assets, targets and billing rates (see the module)."""
    unknown = set(fields) - set(CONTRACT_FIELDS)
    if unknown:
        raise TypeError(f"contract_create() got unexpected fields {sorted(unknown)}")
    contract = Contract(
        customer=customer, reference=reference, name=name, starts_on=starts_on, **fields
    )
    sites, assets = list(sites), list(assets)
    check_contract_writer(by, [site.pk for site in sites])
    _save(contract, sites=sites, assets=assets, targets=list(targets), rates=list(billing_rates))
    audit_record(
        by=by,
        action=AuditAction.CONTRACT_CREATE,
        obj=contract,
        sites=sites,
        changes={"reference": reference, "sites": [site.pk for site in sites]},
    )
    return contract


@transaction.atomic
def contract_update(
    *,
    contract: Contract,
    by=None,
    customer=UNCHANGED,
    reference: str = UNCHANGED,
    name: str = UNCHANGED,
    starts_on=UNCHANGED,
    ends_on=UNCHANGED,
    is_active: bool = UNCHANGED,
    at_risk_share=UNCHANGED,
    pausing_hold_reasons: list = UNCHANGED,
    labour_rate=UNCHANGED,
    overtime_multiplier=UNCHANGED,
    parts_markup_percent=UNCHANGED,
    services_markup_percent=UNCHANGED,
    monthly_fee=UNCHANGED,
    fee_covers_preventive: bool = UNCHANGED,
    not_to_exceed=UNCHANGED,
    client_approval_pauses_clock: bool = UNCHANGED,
    sites=UNCHANGED,
    assets=UNCHANGED,
    targets=UNCHANGED,
    billing_rates=UNCHANGED,
) -> Contract:
    """Change a contract; the lists given (sites, assets, targets, billing rates) replace the
    old ones, those not given stay."""
    fields = given_fields(locals(), Contract)
    old_sites = list(contract.sites.all())
    new_sites = old_sites if sites is UNCHANGED else list(sites)
    check_contract_writer(by, {site.pk for site in [*old_sites, *new_sites]})
    before = {name: getattr(contract, name) for name in fields}
    for name, value in fields.items():
        setattr(contract, name, value)
    _save(
        contract,
        sites=new_sites,
        assets=list(contract.assets.all()) if assets is UNCHANGED else list(assets),
        targets=None if targets is UNCHANGED else list(targets),
        rates=None if billing_rates is UNCHANGED else list(billing_rates),
    )
    changes = field_changes(before, fields)
    if sites is not UNCHANGED:
        changes["sites"] = [[s.pk for s in old_sites], [s.pk for s in new_sites]]
    for name, given in (("assets", assets), ("targets", targets), ("billing_rates", billing_rates)):
        if given is not UNCHANGED:
            changes[name] = "replaced"
    audit_record(
        by=by,
        action=AuditAction.CONTRACT_UPDATE,
        obj=contract,
        sites={s.pk for s in [*old_sites, *new_sites]},
        changes=changes,
    )
    return contract


def _save(contract: Contract, *, sites: list, assets: list, targets, rates) -> None:
    """Validate the whole contract, then write it and its lists (None: list unchanged)."""
    # Contracts covering a site are written one at a time (the overlap check below reads the
    # others), so two planners cannot each add an overlapping contract concurrently.
    list(
        Site.objects.select_for_update()
        .filter(pk__in=sorted(s.pk for s in sites))
        .values_list("pk", flat=True)
    )
    _check_reasons(contract.pausing_hold_reasons)
    contract.full_clean()
    _check_sites(contract, sites)
    _check_assets(sites, assets)
    if targets is not None:
        _check_targets(targets)
    if rates is not None:
        _check_rates(rates)
    _check_overlap(contract, sites, assets)
    contract.save()
    contract.sites.set(sites)
    contract.assets.set(assets)
    if targets is not None:
        contract.targets.all().delete()
        SlaTarget.objects.bulk_create(SlaTarget(contract=contract, **t) for t in targets)
    if rates is not None:
        contract.billing_rates.all().delete()
        BillingRate.objects.bulk_create(BillingRate(contract=contract, **r) for r in rates)


def _check_reasons(reasons) -> None:
    if not isinstance(reasons, list) or any(r not in HoldReason.values for r in reasons):
        raise ValidationError(
            {"pausing_hold_reasons": f"Hold reasons are among {', '.join(HoldReason.values)}."}
        )
    if len(set(reasons)) != len(reasons):
        raise ValidationError({"pausing_hold_reasons": "A hold reason is listed twice."})


def _check_sites(contract: Contract, sites: list) -> None:
    if not sites:
        raise ValidationError({"sites": "A contract covers at least one site."})
    foreign = [site.code for site in sites if site.customer_id != contract.customer_id]
    if foreign:
        raise ValidationError(
            {"sites": f"{', '.join(foreign)} belong(s) to another customer than the contract's."}
        )


def _check_assets(sites: list, assets: list) -> None:
    site_ids = {site.pk for site in sites}
    outside = [asset.tag for asset in assets if asset.site_id not in site_ids]
    if outside:
        raise ValidationError(
            {"assets": f"{', '.join(outside)} is/are not at a site of the contract."}
        )


def _check_targets(targets: list[dict]) -> None:
    priorities = [t.get("priority") for t in targets]
    if len(set(priorities)) != len(priorities):
        raise ValidationError({"targets": "One target per priority."})
    for target in targets:
        if target.get("priority") not in Priority.values:
            raise ValidationError({"targets": f"{target.get('priority')!r} is not a priority."})
        if target["resolution_hours"] < target["response_hours"]:
            raise ValidationError(
                {
                    "targets": f"Priority {target['priority']}: the resolution time cannot be "
                    "shorter than the response time."
                }
            )
        SlaTarget(**target).clean_fields(exclude=["contract"])


def _check_rates(rates: list[dict]) -> None:
    skills = [rate["skill"].pk for rate in rates]
    if len(set(skills)) != len(skills):
        raise ValidationError({"billing_rates": "One billing rate per skill."})
    for rate in rates:
        BillingRate(**rate).clean_fields(exclude=["contract"])


def _check_overlap(contract: Contract, sites: list, assets: list) -> None:
    """Refuse when another active contract covers one of the same sites (and, when both list
    assets, one of the same assets) on an overlapping day: each work order falls under one
    contract. Call while holding the sites' row locks."""
    if not contract.is_active:
        return
    others = Contract.objects.filter(is_active=True, sites__in=sites).exclude(pk=contract.pk)
    if contract.ends_on is not None:
        others = others.filter(starts_on__lte=contract.ends_on)
    others = others.exclude(ends_on__lt=contract.starts_on).distinct()
    mine = {asset.pk for asset in assets}
    site_ids = {site.pk for site in sites}
    for other in others.prefetch_related("sites", "assets"):
        shared = [site for site in other.sites.all() if site.pk in site_ids]
        theirs = {asset.pk for asset in other.assets.all() if asset.site_id in site_ids}
        if mine and theirs and not mine & theirs:
            continue  # both list assets, none in common
        field = "assets" if mine and theirs else "sites"
        raise ValidationError(
            {
                field: f"Contract {other.reference} already covers "
                f"{', '.join(site.code for site in shared)} from {other.starts_on}"
                f"{f' to {other.ends_on}' if other.ends_on else ''}; "
                "end it or deactivate it first."
            }
        )


# ------------------------------------------------------------------ business calendars


def check_calendar_writer(by, site_id: int) -> None:
    """Raise unless `by` plans at the calendar's site."""
    if by is None or by.is_superuser:
        return
    if not by.is_planner or not by.may_see_site(site_id):
        raise NotPermitted("Only planners of the site change its business calendar.")


@transaction.atomic
def business_calendar_create(
    *,
    site,
    by=None,
    working_days: list[int] = UNCHANGED,
    day_starts: datetime.time = UNCHANGED,
    day_ends: datetime.time = UNCHANGED,
    holidays: Iterable[dict] = (),
) -> BusinessCalendar:
    """Give a site its business calendar (a site has one) with its holidays; the week is
    Monday to Friday unless `working_days` says otherwise."""
    check_calendar_writer(by, site.pk)
    if working_days is UNCHANGED:
        working_days = list(MONDAY_TO_FRIDAY)
    if BusinessCalendar.objects.filter(site=site).exists():
        raise ValidationError({"site": f"{site.code} already has a business calendar."})
    calendar = BusinessCalendar(site=site)
    fields = given_fields(locals(), BusinessCalendar)
    fields.pop("site")
    return _calendar_save(calendar, fields, holidays=list(holidays), by=by, created=True)


@transaction.atomic
def business_calendar_update(
    *,
    calendar: BusinessCalendar,
    by=None,
    working_days: list[int] = UNCHANGED,
    day_starts: datetime.time = UNCHANGED,
    day_ends: datetime.time = UNCHANGED,
    holidays: Iterable[dict] = UNCHANGED,
) -> BusinessCalendar:
    """Change a calendar's week; `holidays` given replace the old ones."""
    check_calendar_writer(by, calendar.site_id)
    fields = given_fields(locals(), BusinessCalendar)
    new_holidays = None if holidays is UNCHANGED else list(holidays)
    return _calendar_save(calendar, fields, holidays=new_holidays, by=by, created=False)


def _calendar_save(calendar, fields: dict, *, holidays, by, created: bool) -> BusinessCalendar:
    before = {name: getattr(calendar, name) for name in fields}
    for name, value in fields.items():
        setattr(calendar, name, value)
    calendar.full_clean(exclude=["site"], validate_constraints=False)
    if holidays is not None:
        dates = [h["date"] for h in holidays]
        if len(set(dates)) != len(dates):
            raise ValidationError({"holidays": "A date is listed twice."})
    calendar.save()
    changes = field_changes(before, fields)
    if holidays is not None:
        calendar.holidays.all().delete()
        Holiday.objects.bulk_create(Holiday(calendar=calendar, **h) for h in holidays)
        changes["holidays"] = [str(h["date"]) for h in holidays]
    audit_record(
        by=by,
        action=AuditAction.CALENDAR_CREATE if created else AuditAction.CALENDAR_UPDATE,
        obj=calendar,
        site=calendar.site,
        changes=changes,
    )
    return calendar


@transaction.atomic
def holiday_add(*, calendar: BusinessCalendar, date: datetime.date, name: str, by=None) -> Holiday:
    """Add one holiday to a site's calendar (the admin's and the API's lists use the update)."""
    check_calendar_writer(by, calendar.site_id)
    if calendar.holidays.filter(date=date).exists():
        raise ValidationError({"date": f"{date} is already a holiday of {calendar.site.code}."})
    holiday = Holiday(calendar=calendar, date=date, name=name)
    holiday.full_clean(exclude=["calendar"], validate_constraints=False)
    holiday.save()
    return holiday


@transaction.atomic
def holiday_remove(*, holiday: Holiday, by=None) -> None:
    """Remove a holiday: the business clock runs on that day again."""
    check_calendar_writer(by, holiday.calendar.site_id)
    holiday.delete()
