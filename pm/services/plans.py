"""Writes to PM plans (admin and API both call these)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cmms.errors import NotPermitted
from cmms.rows import UNCHANGED, given_fields
from pm.models import PMPlan
from workorders.models import JobPlan
from workorders.policy import may_plan

# A plan's two triggers, as the admin groups them.
CALENDAR_TRIGGER_FIELDS = (
    "trigger",
    "interval",
    "interval_unit",
    "anchor",
    "starts_on",
    "due_time",
    "ends_on",
    "lead_days",
)
METER_TRIGGER_FIELDS = ("meter_code", "meter_interval", "meter_start", "meter_lead")
# Fields that decide which occurrences exist or when they are generated; changing them restarts
# the schedule from now (a longer lead moves generation times into the past: not missed).
# An end date only stops the schedule.
SCHEDULE_FIELDS = frozenset(CALENDAR_TRIGGER_FIELDS + METER_TRIGGER_FIELDS) - {"ends_on"}


@transaction.atomic
def pm_plan_save(
    *,
    plan: PMPlan | None = None,
    by=None,
    site=UNCHANGED,
    name=UNCHANGED,
    is_active=UNCHANGED,
    scope=UNCHANGED,
    asset=UNCHANGED,
    equipment_class=UNCHANGED,
    job_plan=UNCHANGED,
    priority=UNCHANGED,
    work_order_status=UNCHANGED,
    skip_while_open=UNCHANGED,
    trigger=UNCHANGED,
    interval=UNCHANGED,
    interval_unit=UNCHANGED,
    anchor=UNCHANGED,
    starts_on=UNCHANGED,
    due_time=UNCHANGED,
    ends_on=UNCHANGED,
    lead_days=UNCHANGED,
    meter_code=UNCHANGED,
    meter_interval=UNCHANGED,
    meter_start=UNCHANGED,
    meter_lead=UNCHANGED,
) -> PMPlan:
    """Create or update a PM plan (validated: assets of the plan's site, trigger complete);
    a field not given keeps its value (its default on a new plan).

    Re-activating a plan, or changing its schedule, moves `generate_from` to now: the
    occurrences while it was paused are not "missed" and are not generated late.
    """
    fields = given_fields(locals(), PMPlan)
    return _save(plan, fields, by=by)


def _save(plan: PMPlan | None, fields: dict, *, by) -> PMPlan:
    """`pm_plan_save` with the fields given."""
    creating = plan is None
    plan = plan or PMPlan()
    if "site" in fields and not creating and fields["site"].pk != plan.site_id:
        raise ValidationError({"site": "A plan cannot move to another site."})
    was_active = plan.is_active
    old = {name: getattr(plan, name) for name in SCHEDULE_FIELDS} if not creating else {}
    for name, value in fields.items():
        setattr(plan, name, value)
    if not may_plan(by):
        raise NotPermitted("Only planners write PM plans.")
    if by is not None and plan.site_id is not None and not by.may_see_site(plan.site_id):
        raise NotPermitted("You do not work at this site.")
    now = timezone.now()
    if creating:
        plan.generate_from = now
        plan.created_at = now
    elif (plan.is_active and not was_active) or any(
        getattr(plan, name) != value for name, value in old.items()
    ):
        plan.generate_from = now
    plan.full_clean()
    if plan.job_plan_id is not None:
        JobPlan.objects.hold(plan.job_plan_id)  # not deleted while this plan starts using it
    plan.save()
    return plan
