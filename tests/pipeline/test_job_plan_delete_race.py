"""Deleting a job plan while a rule or PM plan starting to use it commits: the delete waits
for it and is refused by name, instead of failing on the foreign key at commit (a 500)."""

import threading

import pytest
from django.db import connection, transaction

from cmms.errors import ConflictError
from pipeline.models import AlertRule
from pipeline.services import alert_rule_save
from pm.models import PMPlan
from tests.factories import AssetFactory, JobPlanFactory, PMPlanFactory, SiteFactory
from workorders.job_plans import job_plan_delete
from workorders.models import JobPlan


@pytest.mark.postgresql(reason="SQLite locks the whole database for writers")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("user", ["alert rule", "PM plan"])
def test_a_delete_racing_a_new_user_of_the_plan_is_refused_naming_it(user):
    site = SiteFactory()
    job_plan = JobPlanFactory(site=site, code="align")
    asset = AssetFactory(site=site)
    rule_saved, errors = threading.Event(), []

    def save_rule_and_commit_late():
        try:
            with transaction.atomic():
                if user == "alert rule":
                    alert_rule_save(name="new user", site=site, job_plan=job_plan)
                else:
                    PMPlanFactory(name="new user", site=site, asset=asset, job_plan=job_plan)
                rule_saved.set()
                threading.Event().wait(0.5)  # the delete starts meanwhile
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            rule_saved.set()
            connection.close()

    writer = threading.Thread(target=save_rule_and_commit_late)
    writer.start()
    rule_saved.wait()
    try:
        with pytest.raises(ConflictError) as refused:
            job_plan_delete(job_plan=job_plan)
    finally:
        writer.join()

    assert errors == []
    assert f"{user} “new user”" in refused.value.message
    assert JobPlan.objects.filter(pk=job_plan.pk).exists()
    model = AlertRule if user == "alert rule" else PMPlan
    assert model.objects.get(name="new user").job_plan_id == job_plan.pk
