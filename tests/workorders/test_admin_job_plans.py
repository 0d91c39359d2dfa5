"""The job plan admin writes the plan, its steps and its parts through `job_plan_save`, so an
admin save is validated and audited like an API write. The plans here belong to the planner's
site (tests/workorders/test_job_plan_ownership.py covers who may write which plan)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from audit.choices import AuditAction
from audit.models import AuditEntry
from tests.factories import (
    JobPlanFactory,
    PartFactory,
    PlannerFactory,
    SuperuserFactory,
)
from tests.forms import form_data
from workorders import admin as workorders_admin
from workorders.job_plans import job_plan_save
from workorders.models import JobPlan

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:workorders_jobplan_add")


def change_url(job_plan):
    return reverse("admin:workorders_jobplan_change", args=[job_plan.pk])


@pytest.fixture(params=["planner", "superuser"])
def user(request, site):
    return PlannerFactory(sites=[site]) if request.param == "planner" else SuperuserFactory()


@pytest.fixture
def admin_client(user, logged_in):
    return logged_in(user)


@pytest.fixture
def bearing():
    return PartFactory(sku="BRG-6205")


@pytest.fixture
def job_plan(bearing, site):
    return JobPlanFactory(
        site=site,
        code="align",
        title="Align coupling",
        steps=["Lock out", "Measure offset"],
        parts=[(bearing, Decimal("2"))],
    )


def add_form(client, site, *, steps=(), parts=(), **values):
    data = form_data(client.get(ADD_URL), "jobplan_form")
    data.update(code="align", title="Align coupling", work_type="corrective", estimated_hours="2")
    data["site"] = site.pk
    data.update(values)
    data.update(inline_rows("steps", steps))
    data.update(inline_rows("parts", parts))
    return data


def inline_rows(prefix: str, rows) -> dict:
    data = {f"{prefix}-TOTAL_FORMS": str(len(rows))}
    for i, row in enumerate(rows):
        data.update({f"{prefix}-{i}-{name}": value for name, value in row.items()})
    return data


def plan_rows(job_plan):
    steps = [(s.position, s.text, s.requires_value, s.unit) for s in job_plan.steps.all()]
    parts = [(p.part.sku, p.quantity) for p in job_plan.parts.select_related("part")]
    return steps, parts


def test_creating_a_job_plan_records_who_created_it_with_its_steps_and_parts(
    admin_client, user, bearing, site
):
    data = add_form(
        admin_client,
        site,
        steps=[
            {"position": "1", "text": "Lock out"},
            {"position": "2", "text": "Measure offset", "requires_value": "on", "unit": "mm"},
        ],
        parts=[{"part": bearing.pk, "quantity": "2"}],
    )

    response = admin_client.post(ADD_URL, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    job_plan = JobPlan.objects.get(code="align")
    assert plan_rows(job_plan) == (
        [(1, "Lock out", False, ""), (2, "Measure offset", True, "mm")],
        [("BRG-6205", Decimal("2.000"))],
    )
    entry = AuditEntry.objects.get(action=AuditAction.JOB_PLAN_CREATE)
    assert entry.object_id == str(job_plan.pk)
    assert entry.actor == user and entry.actor_name == user.username
    assert entry.changes["code"] == [None, "align"]
    assert entry.changes["title"] == [None, "Align coupling"]
    assert entry.changes["steps"] == 2
    assert entry.changes["parts"] == ["BRG-6205 x 2"]


def test_editing_the_title_and_steps_records_what_changed(admin_client, user, job_plan):
    data = form_data(admin_client.get(change_url(job_plan)), "jobplan_form")
    data.update(
        {
            "title": "Align coupling (laser)",
            "steps-0-text": "Lock out and tag",
            "steps-1-DELETE": "on",
            "steps-TOTAL_FORMS": "3",
            "steps-2-position": "3",
            "steps-2-text": "Record alignment",
            "steps-2-requires_value": "on",
            "steps-2-unit": "mm",
        }
    )

    response = admin_client.post(change_url(job_plan), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    job_plan.refresh_from_db()
    assert job_plan.title == "Align coupling (laser)"
    assert plan_rows(job_plan) == (
        [(1, "Lock out and tag", False, ""), (2, "Record alignment", True, "mm")],
        [("BRG-6205", Decimal("2.000"))],
    )
    entry = AuditEntry.objects.get(action=AuditAction.JOB_PLAN_UPDATE)
    assert entry.actor == user and entry.object_id == str(job_plan.pk)
    assert entry.changes == {"title": ["Align coupling", "Align coupling (laser)"], "steps": 2}


def test_editing_the_parts_replaces_them_and_records_the_new_list(admin_client, job_plan):
    seal = PartFactory(sku="SEAL-40")
    data = form_data(admin_client.get(change_url(job_plan)), "jobplan_form")
    data.update(
        {
            "parts-0-quantity": "4",
            "parts-TOTAL_FORMS": "2",
            "parts-1-part": seal.pk,
            "parts-1-quantity": "1",
        }
    )

    response = admin_client.post(change_url(job_plan), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert plan_rows(job_plan)[1] == [("BRG-6205", Decimal("4.000")), ("SEAL-40", Decimal("1"))]
    entry = AuditEntry.objects.get(action=AuditAction.JOB_PLAN_UPDATE)
    assert entry.changes == {"parts": ["BRG-6205 x 4", "SEAL-40 x 1"]}


def test_a_title_only_edit_leaves_the_steps_and_parts_rows_alone(admin_client, job_plan):
    row_ids = (list(job_plan.steps.values_list("pk")), list(job_plan.parts.values_list("pk")))
    data = form_data(admin_client.get(change_url(job_plan)), "jobplan_form")
    data["title"] = "Align motor coupling"

    response = admin_client.post(change_url(job_plan), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert (list(job_plan.steps.values_list("pk")), list(job_plan.parts.values_list("pk"))) == (
        row_ids
    )
    entry = AuditEntry.objects.get(action=AuditAction.JOB_PLAN_UPDATE)
    assert entry.changes == {"title": ["Align coupling", "Align motor coupling"]}


def test_saving_an_unchanged_job_plan_records_nothing(admin_client, job_plan):
    data = form_data(admin_client.get(change_url(job_plan)), "jobplan_form")

    response = admin_client.post(change_url(job_plan), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert not AuditEntry.objects.filter(action=AuditAction.JOB_PLAN_UPDATE).exists()


def test_a_negative_quantity_shows_on_the_form_and_nothing_changes(admin_client, job_plan):
    before = plan_rows(job_plan)
    data = form_data(admin_client.get(change_url(job_plan)), "jobplan_form")
    data.update({"title": "Changed", "parts-0-quantity": "-1"})

    response = admin_client.post(change_url(job_plan), data)

    assert response.status_code == 200
    assert "Quantity must be greater than zero." in response.content.decode()
    job_plan.refresh_from_db()
    assert job_plan.title == "Align coupling" and plan_rows(job_plan) == before
    assert not AuditEntry.objects.filter(action=AuditAction.JOB_PLAN_UPDATE).exists()


def test_a_code_already_taken_shows_on_the_form_and_nothing_is_created(
    admin_client, job_plan, site
):
    data = add_form(
        admin_client, site, title="Second align", steps=[{"position": "1", "text": "x"}]
    )

    response = admin_client.post(ADD_URL, data)

    assert response.status_code == 200
    assert "code" in response.context["adminform"].form.errors
    assert list(JobPlan.objects.values_list("title", flat=True)) == ["Align coupling"]
    assert AuditEntry.objects.filter(action=AuditAction.JOB_PLAN_CREATE).count() == 1


def test_a_refusal_by_the_service_shows_on_the_form_and_saves_nothing(
    admin_client, bearing, site, monkeypatch
):
    """Another planner takes the code between form validation and the write: the service's
    own check refuses it, and the planner sees why instead of a server error."""

    def code_taken_meanwhile(**kwargs):
        job_plan_save(code=kwargs["code"], title="Saved by someone else")
        return job_plan_save(**kwargs)

    monkeypatch.setattr(workorders_admin, "job_plan_save", code_taken_meanwhile)
    data = add_form(
        admin_client,
        site,
        steps=[{"position": "1", "text": "Lock out"}],
        parts=[{"part": bearing.pk, "quantity": "2"}],
    )

    response = admin_client.post(ADD_URL, data)

    assert response.status_code == 200
    assert "Job plan with this Code already exists." in response.content.decode()
    assert not JobPlan.objects.exists()
    assert not AuditEntry.objects.exists()
