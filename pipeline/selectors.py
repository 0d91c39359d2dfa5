"""Reads that route an alert: which rule applies to it, which technician gets its work.

Alert processing (`alerts.processing`) asks these; they know nothing of alerts beyond the
fields they read (site, asset, condition, severity).
"""

from django.db.models import Q

from accounts.models import User
from cmms.roles import Role
from pipeline.models import AlertRule
from workorders.choices import OPEN_STATUSES
from workorders.models import WorkOrder


def site_rules(site_id: int) -> list[AlertRule]:
    """The active rules that may apply at a site: its own and the global ones."""
    return list(
        AlertRule.objects.filter(is_active=True)
        .filter(Q(site__isnull=True) | Q(site_id=site_id))
        .select_related("job_plan")
    )


def rule_for(alert, *, rules: list[AlertRule] | None = None) -> AlertRule | None:
    """The most specific active rule matching the alert's asset and condition (deterministic);
    `rules` are the site's rules when the caller has them already (see `site_rules`)."""
    candidates = site_rules(alert.site_id) if rules is None else rules
    matching = [
        rule
        for rule in candidates
        if rule.matches(asset=alert.asset, condition=alert.condition, severity=alert.severity)
    ]
    if not matching:
        return None
    return max(matching, key=lambda rule: rule.specificity(alert.asset))


def technician_for(*, site_id: int, skill_id: int | None) -> User | None:
    """The least loaded active technician at the site with the required skill (one query).

    Load is the estimated hours of the technician's open work orders (index on assignee,
    status). Written in SQL because it runs once per new work order on the alert pipeline's
    hot path, where building the equivalent ORM query cost more than running it.
    """
    user, sites, skills, work_order = (
        User._meta.db_table,
        User.sites.through._meta.db_table,
        User.skills.through._meta.db_table,
        WorkOrder._meta.db_table,
    )
    statuses = sorted(OPEN_STATUSES)
    skill_join = f"JOIN {skills} sk ON sk.user_id = u.id AND sk.skill_id = %s" if skill_id else ""
    sql = f"""
        SELECT u.*, COALESCE((
            SELECT SUM(w.estimated_hours) FROM {work_order} w
            WHERE w.assignee_id = u.id AND w.status IN ({", ".join(["%s"] * len(statuses))})
        ), 0) AS load
        FROM {user} u
        JOIN {sites} us ON us.user_id = u.id AND us.site_id = %s
        {skill_join}
        WHERE u.role = %s AND u.is_active
        ORDER BY load, u.id
        LIMIT 1
    """  # noqa: S608 (table names come from the models; values are parameters)
    params = [*statuses, site_id, *([skill_id] if skill_id else []), Role.TECHNICIAN]
    return next(iter(User.objects.raw(sql, params)), None)
