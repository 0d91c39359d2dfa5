"""Writes to job plans and alert rules (admin and API both call these)."""

from django.db import transaction

from pipeline.models import AlertRule
from workorders.models import JobPlan, JobPlanPart, JobPlanStep


@transaction.atomic
def job_plan_save(*, job_plan: JobPlan | None = None, steps=None, parts=None, **fields) -> JobPlan:
    """Create or update a job plan; `steps` (texts or dicts) and `parts` ((part, qty) pairs)
    replace the existing ones when given."""
    job_plan = job_plan or JobPlan()
    for name, value in fields.items():
        setattr(job_plan, name, value)
    job_plan.full_clean()
    job_plan.save()
    if steps is not None:
        job_plan.steps.all().delete()
        JobPlanStep.objects.bulk_create(
            JobPlanStep(
                job_plan=job_plan,
                position=i,
                **({"text": step} if isinstance(step, str) else step),
            )
            for i, step in enumerate(steps, start=1)
        )
    if parts is not None:
        job_plan.parts.all().delete()
        JobPlanPart.objects.bulk_create(
            JobPlanPart(job_plan=job_plan, part=part, quantity=quantity) for part, quantity in parts
        )
    return job_plan


@transaction.atomic
def alert_rule_save(*, rule: AlertRule | None = None, **fields) -> AlertRule:
    """Create or update an alert rule (validated: the asset must belong to the rule's site)."""
    rule = rule or AlertRule()
    for name, value in fields.items():
        setattr(rule, name, value)
    rule.full_clean()
    rule.save()
    return rule
