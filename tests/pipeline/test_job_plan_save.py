"""`job_plan_save` validates the steps and parts it is given, whoever calls it (admin, API,
scripts), instead of leaving bad rows to a database error."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from audit.models import AuditEntry
from tests.factories import JobPlanFactory, PartFactory, PlannerFactory, SiteFactory
from workorders.job_plans import job_plan_save
from workorders.models import JobPlan

pytestmark = pytest.mark.django_db


@pytest.fixture
def bearing():
    return PartFactory(sku="BRG-6205")


@pytest.fixture
def job_plan(bearing):
    return JobPlanFactory(title="Align", steps=["Lock out"], parts=[(bearing, Decimal("2"))])


@pytest.mark.parametrize("quantity", [Decimal("0"), Decimal("-1")])
def test_a_part_quantity_must_be_above_zero(job_plan, bearing, quantity):
    with pytest.raises(ValidationError) as refused:
        job_plan_save(job_plan=job_plan, title="Changed", parts=[(bearing, quantity)])

    assert refused.value.message_dict == {
        "parts": ["BRG-6205: Quantity must be greater than zero."]
    }
    job_plan.refresh_from_db()
    assert job_plan.title == "Align"
    assert list(job_plan.parts.values_list("quantity", flat=True)) == [Decimal("2")]


def test_a_part_may_be_listed_only_once(bearing):
    with pytest.raises(ValidationError) as refused:
        job_plan_save(code="twice", title="Twice", parts=[(bearing, 1), (bearing, 2)])

    assert refused.value.message_dict == {"parts": ["BRG-6205 is listed more than once."]}


def test_a_blank_step_is_refused_with_its_position(job_plan):
    with pytest.raises(ValidationError) as refused:
        job_plan_save(job_plan=job_plan, steps=["Lock out", ""])

    assert refused.value.message_dict["steps"][0].startswith("Step 2: text:")
    assert list(job_plan.steps.values_list("text", flat=True)) == ["Lock out"]


def test_a_refused_save_records_nothing(bearing):
    with pytest.raises(ValidationError):
        job_plan_save(code="bad", title="Bad", parts=[(bearing, -1)])

    assert not JobPlan.objects.exists()
    assert not AuditEntry.objects.exists()


def test_the_api_answers_a_part_listed_twice_with_a_400(bearing):
    api = APIClient()
    site = SiteFactory()
    api.force_authenticate(PlannerFactory(sites=[site]))
    part = {"part": bearing.pk, "quantity": "1"}

    response = api.post(
        "/api/v1/job-plans/",
        {"code": "twice", "title": "Twice", "site": site.pk, "parts": [part, part]},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"parts": ["BRG-6205 is listed more than once."]}
    assert not JobPlan.objects.exists()
