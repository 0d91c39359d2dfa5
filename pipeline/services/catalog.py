"""Writes to job plans and alert rules (admin and API both call these)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.models import model_to_dict

from audit.choices import AuditAction
from audit.services import audit_record, field_changes
from pipeline.models import AlertRule
from workorders.models import JobPlan, JobPlanPart, JobPlanStep

QUANTITY_NOT_POSITIVE = "Quantity must be greater than zero."


@transaction.atomic
def job_plan_save(
    *, job_plan: JobPlan | None = None, steps=None, parts=None, by=None, **fields
) -> JobPlan:
    """Create or update a job plan; `steps` (texts or dicts, in order) and `parts`
    ((part, qty) pairs) replace the existing ones when given. Pass the stored row as
    `job_plan`, not one already holding the new values, so the audit trail records what
    changed. Recorded in the audit trail with `by`."""
    creating = job_plan is None
    job_plan = job_plan or JobPlan()
    before = {} if creating else model_to_dict(job_plan, fields=list(fields))
    for name, value in fields.items():
        setattr(job_plan, name, value)
    job_plan.full_clean()
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
        changes=changes,
    )
    return job_plan


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


GLOBAL_RULES_ARE_FOR_SUPERUSERS = "Only superusers write rules for every site; choose a site."


@transaction.atomic
def alert_rule_save(*, rule: AlertRule | None = None, by=None, **fields) -> AlertRule:
    """Create or update an alert rule (validated: the asset must belong to the rule's site;
    only superusers, or the system with `by=None`, write global rules, those without a site).
    Pass the stored row as `rule`, not one already holding the new values, so the audit
    trail records what changed. Recorded in the audit trail with `by`."""
    creating = rule is None
    rule = rule or AlertRule()
    was_global = not creating and rule.site_id is None
    before = {name: getattr(rule, name, None) for name in fields} if not creating else {}
    for name, value in fields.items():
        setattr(rule, name, value)
    rule.full_clean()  # fills the site in from the asset
    if (was_global or rule.site_id is None) and not _may_write_global_rules(by):
        raise ValidationError({"site": GLOBAL_RULES_ARE_FOR_SUPERUSERS})
    rule.save()
    audit_record(
        by=by,
        action=AuditAction.ALERT_RULE_CREATE if creating else AuditAction.ALERT_RULE_UPDATE,
        obj=rule,
        site=rule.site,
        changes=field_changes(before, fields),
    )
    return rule


def _may_write_global_rules(by) -> bool:
    return by is None or by.is_superuser
