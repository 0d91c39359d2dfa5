"""The caller's work order object shows what a service wrote, related objects included."""

import pytest

from cmms.admin import adopt_saved
from tests.factories import (
    PlannerFactory,
    SiteFactory,
    TechnicianFactory,
    WorkOrderFactory,
    move_to,
)
from workorders.choices import Status
from workorders.models import WorkOrder
from workorders.services import work_order_transition

pytestmark = pytest.mark.django_db


def test_a_technician_starting_unassigned_work_sees_themself_as_assignee_on_their_object():
    site = SiteFactory()
    tech = TechnicianFactory(sites=[site])
    work_order = move_to(WorkOrderFactory(site=site), Status.SCHEDULED)
    assert work_order.assignee is None  # the caller has looked at the assignee before

    work_order_transition(work_order=work_order, to=Status.IN_PROGRESS, by=tech)

    assert work_order.assignee_id == tech.pk
    assert work_order.assignee == tech
    assert work_order.status == Status.IN_PROGRESS
    assert work_order.started_at is not None


def test_the_callers_cached_objects_stay_when_their_row_did_not_change():
    site = SiteFactory()
    planner = PlannerFactory(sites=[site])
    work_order = WorkOrderFactory(site=site)
    cached_site = work_order.site

    work_order_transition(work_order=work_order, to=Status.APPROVED, by=planner)

    assert work_order.site is cached_site
    assert work_order.status == Status.APPROVED


def test_the_admin_form_instance_shows_the_assignee_a_service_set():
    site = SiteFactory()
    tech = TechnicianFactory(sites=[site])
    form_instance = move_to(WorkOrderFactory(site=site), Status.SCHEDULED)
    assert form_instance.assignee is None
    saved = WorkOrder.objects.get(pk=form_instance.pk)
    work_order_transition(work_order=saved, to=Status.IN_PROGRESS, by=tech)

    adopt_saved(form_instance, saved)

    assert form_instance.assignee == tech
    assert form_instance.status == Status.IN_PROGRESS
    assert not form_instance._state.adding
