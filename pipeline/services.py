"""Writes to alert rules (admin and API both call these)."""

from django.core.exceptions import ValidationError
from django.db import transaction

from audit.choices import AuditAction
from audit.services import audit_record, field_changes
from pipeline.models import AlertRule
from workorders.models import JobPlan

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
    if rule.job_plan_id is not None:
        JobPlan.objects.hold(rule.job_plan_id)  # not deleted while this rule starts using it
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
