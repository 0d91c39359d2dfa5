"""Existing job plan entries carry no site, so only superusers saw them. Name the sites that use
each plan now (its owner site, its owner customer's sites, the sites of the rules and PM plans
that use it; every site when a rule for every site does) so their planners see them. Entries
of plans deleted since stay with superusers. Reverse: forget those sites again."""

from django.db import migrations


def name_sites(apps, schema_editor):
    AuditEntry = apps.get_model("audit", "AuditEntry")
    JobPlan = apps.get_model("workorders", "JobPlan")
    AlertRule = apps.get_model("pipeline", "AlertRule")
    PMPlan = apps.get_model("pm", "PMPlan")
    Site = apps.get_model("assets", "Site")
    entries = AuditEntry.objects.filter(object_type="workorders.jobplan", site__isnull=True)
    plan_ids = {int(pk) for pk in entries.values_list("object_id", flat=True) if pk.isdigit()}
    for plan in JobPlan.objects.filter(pk__in=plan_ids):
        rule_sites = set(AlertRule.objects.filter(job_plan=plan).values_list("site_id", flat=True))
        if None in rule_sites:
            sites = set(Site.objects.values_list("id", flat=True))
        else:
            sites = rule_sites | set(
                PMPlan.objects.filter(job_plan=plan).values_list("site_id", flat=True)
            )
            if plan.site_id is not None:
                sites.add(plan.site_id)
            if plan.customer_id is not None:
                sites |= set(
                    Site.objects.filter(customer_id=plan.customer_id).values_list("id", flat=True)
                )
        for entry in entries.filter(object_id=str(plan.pk)):
            entry.sites.add(*sites)


def forget_sites(apps, schema_editor):
    AuditEntry = apps.get_model("audit", "AuditEntry")
    for entry in AuditEntry.objects.filter(object_type="workorders.jobplan", site__isnull=True):
        entry.sites.clear()


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0004_job_plan_delete_action"),
        ("workorders", "0007_job_plan_owner_from_use"),
    ]

    operations = [migrations.RunPython(name_sites, forget_sites)]
