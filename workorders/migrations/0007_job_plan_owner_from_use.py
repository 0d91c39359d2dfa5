"""Give every existing job plan an owner from what uses it (its alert rules and PM plans):

- used at exactly one site: that site;
- used at several sites of one customer: that customer;
- otherwise (unused, used by a rule for every site, or across customers): global, so only
  superusers change it from now on.

Reverse: every plan is ownerless again (the schema migration before this one then drops the
columns).
"""

from django.db import migrations


def owner_from_use(apps, schema_editor):
    JobPlan = apps.get_model("workorders", "JobPlan")
    AlertRule = apps.get_model("pipeline", "AlertRule")
    PMPlan = apps.get_model("pm", "PMPlan")
    Site = apps.get_model("assets", "Site")
    customer_of = dict(Site.objects.values_list("id", "customer_id"))
    for plan in JobPlan.objects.all():
        rule_sites = list(AlertRule.objects.filter(job_plan=plan).values_list("site_id", flat=True))
        pm_sites = list(PMPlan.objects.filter(job_plan=plan).values_list("site_id", flat=True))
        sites = set(rule_sites) | set(pm_sites)
        if not sites or None in sites:
            continue  # unused, or used by a rule for every site: stays global
        customers = {customer_of[site_id] for site_id in sites}
        if len(sites) == 1:
            plan.site_id = sites.pop()
        elif len(customers) == 1:
            plan.customer_id = customers.pop()
        else:
            continue
        plan.save(update_fields=["site", "customer"])


def ownerless(apps, schema_editor):
    apps.get_model("workorders", "JobPlan").objects.update(site=None, customer=None)


class Migration(migrations.Migration):
    dependencies = [
        ("workorders", "0006_job_plan_owner"),
        ("pipeline", "0002_alert_rule_job_plan"),
        ("pm", "0001_initial"),
    ]

    operations = [migrations.RunPython(owner_from_use, ownerless)]
