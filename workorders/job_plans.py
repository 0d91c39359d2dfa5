"""Writes to job plans, the reusable task templates (admin and API both call these).

Who may write which job plan is `OwnedQuerySet`'s rule (cmms/scoping.py): a planner writes
the plans of their sites and of customers all of whose sites they plan; global plans are the
superusers'. `by=None` is the system (seeding, management commands) and may write anything.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.models import model_to_dict

from assets.models import Site
from audit.choices import AuditAction
from audit.services import audit_record, field_changes
from cmms.errors import ConflictError, NotPermitted
from cmms.scoping import may_own
from workorders.models import JobPlan, JobPlanPart, JobPlanStep

QUANTITY_NOT_POSITIVE = "Quantity must be greater than zero."
GLOBAL_JOB_PLANS_ARE_FOR_SUPERUSERS = (
    "Only superusers write job plans for every site; choose a site or a customer."
)
CUSTOMER_NOT_HELD = (
    "You may write a customer's job plans only when you plan all of its sites; choose a site."
)
SITE_NOT_HELD = "You do not plan at this site."
NOT_YOURS = "You may read this job plan but not change it: it belongs to {owner}."


@transaction.atomic
def job_plan_save(
    *, job_plan: JobPlan | None = None, steps=None, parts=None, by=None, **fields
) -> JobPlan:
    """Create or update a job plan; `steps` (texts or dicts, in order) and `parts`
    ((part, qty) pairs) replace the existing ones when given. Pass the stored row as
    `job_plan`, not one already holding the new values, so the audit trail records what
    changed. Recorded in the audit trail with `by`, visible at every site using the plan.

    `by` must be allowed to write the stored plan (else NotPermitted) and to own the plan
    with its new owner (else a ValidationError on `site` or `customer`); a new owner must
    still be usable by every alert rule and PM plan that uses the plan.
    """
    creating = job_plan is None
    if not creating:
        job_plan_check_writable(job_plan=job_plan, by=by)
    used_before = set() if creating else job_plan_site_ids(job_plan)  # a move is seen there too
    job_plan = job_plan or JobPlan()
    before = {} if creating else model_to_dict(job_plan, fields=list(fields))
    for name, value in fields.items():
        setattr(job_plan, name, value)
    job_plan.full_clean()
    _check_owner(job_plan, by)
    if not creating and ({"site", "customer"} & set(fields)):
        _check_users_still_may_use(job_plan, by)
    step_rows = None if steps is None else _step_rows(job_plan, steps)
    part_rows = None if parts is None else _part_rows(job_plan, parts)
    job_plan.save()
    if step_rows is not None:
        job_plan.steps.all().delete()
        JobPlanStep.objects.bulk_create(step_rows)
    if part_rows is not None:
        job_plan.parts.all().delete()
        JobPlanPart.objects.bulk_create(part_rows)
    changes = field_changes(before, {name: getattr(job_plan, name) for name in fields})
    if steps is not None:
        changes["steps"] = len(steps)
    if parts is not None:
        changes["parts"] = [f"{part.sku} x {quantity}" for part, quantity in parts]
    audit_record(
        by=by,
        action=AuditAction.JOB_PLAN_CREATE if creating else AuditAction.JOB_PLAN_UPDATE,
        obj=job_plan,
        site=job_plan.site,
        sites=used_before | job_plan_site_ids(job_plan),
        changes=changes,
    )
    return job_plan


@transaction.atomic
def job_plan_delete(*, job_plan: JobPlan, by=None) -> None:
    """Delete a job plan that no alert rule or PM plan uses (else ConflictError naming them;
    retire a used plan with `is_active` instead). Work orders made from it keep their
    checklist and parts and lose only the link. Recorded in the audit trail."""
    job_plan_check_writable(job_plan=job_plan, by=by)
    # The lock waits for a rule or PM plan being saved with this plan (their foreign key check
    # locks the row too), so nothing starts using it between the check and the delete.
    job_plan = JobPlan.objects.select_for_update().get(pk=job_plan.pk)
    job_plan_check_unused(job_plan=job_plan, by=by)
    audit_record(
        by=by,
        action=AuditAction.JOB_PLAN_DELETE,
        obj=job_plan,
        site=job_plan.site,
        sites=job_plan_site_ids(job_plan),
        changes={"code": job_plan.code},
    )
    job_plan.delete()


def job_plan_check_writable(*, job_plan: JobPlan, by) -> None:
    """NotPermitted unless `by` may change or delete the stored plan."""
    if not may_own(by, site_id=job_plan.site_id, customer_id=job_plan.customer_id, model=JobPlan):
        raise NotPermitted(NOT_YOURS.format(owner=_owner_words(job_plan)))


def job_plan_check_unused(*, job_plan: JobPlan, by) -> None:
    """ConflictError (code `in_use`) naming the alert rules and PM plans that use the plan;
    those of sites `by` does not see are counted, not named."""
    users = _users_of(job_plan)
    if not users:
        return
    shown = [f"{kind} “{name}”" for kind, name, site_id in users if _sees(by, site_id)]
    hidden = len(users) - len(shown)
    if hidden:
        shown.append(f"{hidden} more at sites you do not plan")
    raise ConflictError(
        f"Job plan {job_plan.code} is used by {', '.join(shown)}; "
        "deactivate it or change those first.",
        code="in_use",
    )


def job_plan_site_ids(job_plan: JobPlan) -> set[int]:
    """The sites that use the plan: its owner site, its customer's sites, the sites of the
    rules and PM plans that use it; every site when a rule for every site uses it."""
    users = _users_of(job_plan)
    if any(site_id is None for _kind, _name, site_id in users):
        return set(Site.objects.values_list("id", flat=True))
    sites = {site_id for _kind, _name, site_id in users}
    if job_plan.site_id is not None:
        sites.add(job_plan.site_id)
    if job_plan.customer_id is not None:
        customer_sites = Site.objects.filter(customer=job_plan.customer_id)
        sites |= set(customer_sites.values_list("id", flat=True))
    return sites


def _users_of(job_plan: JobPlan) -> list[tuple[str, str, int | None]]:
    """(kind, name, site id) of every alert rule and PM plan that uses the plan."""
    if job_plan.pk is None:
        return []
    # Through the reverse relations: the rules and PM plans are the apps above this one.
    rules = job_plan.alert_rules.order_by("name", "pk")
    plans = job_plan.pm_plans.order_by("name", "pk")
    return [("alert rule", name, site) for name, site in rules.values_list("name", "site")] + [
        ("PM plan", name, site) for name, site in plans.values_list("name", "site")
    ]


def _sees(by, site_id) -> bool:
    return by is None or by.is_superuser or (site_id is not None and by.may_see_site(site_id))


def _check_owner(job_plan: JobPlan, by) -> None:
    """ValidationError unless `by` may own the plan with the owner it now has."""
    if may_own(by, site_id=job_plan.site_id, customer_id=job_plan.customer_id, model=JobPlan):
        return
    if job_plan.site_id is not None:
        raise ValidationError({"site": SITE_NOT_HELD})
    if job_plan.customer_id is not None:
        raise ValidationError({"customer": CUSTOMER_NOT_HELD})
    raise ValidationError({"site": GLOBAL_JOB_PLANS_ARE_FOR_SUPERUSERS})


def _check_users_still_may_use(job_plan: JobPlan, by) -> None:
    """A new owner must leave the plan usable by every rule and PM plan that uses it."""
    sites = Site.objects.in_bulk({site_id for _k, _n, site_id in _users_of(job_plan) if site_id})
    stranded = [
        f"{kind} “{name}”" if _sees(by, site_id) else "a rule or PM plan of another site"
        for kind, name, site_id in _users_of(job_plan)
        if not job_plan.is_usable_at(sites.get(site_id))
    ]
    if stranded:
        raise ValidationError(
            {"site": f"Still used where the new owner does not reach: {', '.join(stranded)}."}
        )


def _owner_words(job_plan: JobPlan) -> str:
    if job_plan.site_id is not None:
        return "another planner's site"
    if job_plan.customer_id is not None:
        return "a customer with sites you do not plan"
    return "every site (superusers change it)"


def _step_rows(job_plan: JobPlan, steps) -> list[JobPlanStep]:
    """Validated, unsaved steps numbered in the order given (bulk_create skips validation)."""
    rows = []
    for position, step in enumerate(steps, start=1):
        row = JobPlanStep(
            job_plan=job_plan,
            position=position,
            **({"text": step} if isinstance(step, str) else step),
        )
        try:
            row.full_clean(exclude=["job_plan"], validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            raise ValidationError({"steps": f"Step {position}: {_messages(error)}"}) from error
        rows.append(row)
    return rows


def _part_rows(job_plan: JobPlan, parts) -> list[JobPlanPart]:
    """Validated, unsaved parts: each part once, each quantity above zero."""
    rows, seen = [], set()
    for part, quantity in parts:
        if quantity <= 0:
            raise ValidationError({"parts": f"{part.sku}: {QUANTITY_NOT_POSITIVE}"})
        if part.pk in seen:
            raise ValidationError({"parts": f"{part.sku} is listed more than once."})
        seen.add(part.pk)
        rows.append(JobPlanPart(job_plan=job_plan, part=part, quantity=quantity))
    return rows


def _messages(error: ValidationError) -> str:
    return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items())
