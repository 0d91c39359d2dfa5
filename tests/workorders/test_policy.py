"""The work order policy: what the pages offer is exactly what the services accept."""

import pytest
from django.db import transaction

from cmms.errors import SERVICE_ERRORS
from tests.factories import (
    CustomerViewerFactory,
    PlannerFactory,
    SiteFactory,
    TechnicianFactory,
    WorkOrderFactory,
    failure_codes,
    move_to,
)
from workorders import policy, services
from workorders.choices import TRANSITIONS, Status

pytestmark = pytest.mark.django_db

STATUSES = [
    Status.REQUESTED,
    Status.APPROVED,
    Status.SCHEDULED,
    Status.IN_PROGRESS,
    Status.ON_HOLD,
    Status.COMPLETED,
    Status.CLOSED,
]


class _Undo(Exception):
    """Rolls back a trial write."""


def _service_accepts(work_order, to, user, codes) -> bool:
    fresh = type(work_order).objects.get(pk=work_order.pk)
    try:
        with transaction.atomic():
            services.work_order_transition(
                work_order=fresh, to=to, by=user, reason="trial", **codes
            )
            raise _Undo
    except _Undo:
        return True
    except SERVICE_ERRORS:
        return False


@pytest.fixture
def people():
    site = SiteFactory()
    technician = TechnicianFactory(sites=[site])
    return {
        "site": site,
        "planner": PlannerFactory(sites=[site]),
        "assignee": technician,
        "colleague": TechnicianFactory(sites=[site]),
        "viewer": CustomerViewerFactory(sites=[site]),
    }


@pytest.mark.parametrize("status", STATUSES)
def test_the_transitions_offered_are_those_the_lifecycle_service_accepts(people, status):
    work_order = move_to(WorkOrderFactory(site=people["site"], assignee=people["assignee"]), status)
    codes = dict(zip(("problem", "cause", "remedy"), failure_codes(), strict=True))
    for name in ("planner", "assignee", "colleague", "viewer"):
        user = people[name]
        offered = policy.allowed_transitions(user, work_order)
        accepted = {
            to for to in TRANSITIONS[status] if _service_accepts(work_order, to, user, codes)
        }
        assert offered == accepted, name


def test_a_technician_is_offered_field_work_on_their_own_or_unassigned_work_only(people):
    mine = move_to(WorkOrderFactory(site=people["site"], assignee=people["assignee"]), "scheduled")
    nobodys = move_to(WorkOrderFactory(site=people["site"]), "scheduled")
    technician, colleague = people["assignee"], people["colleague"]
    assert policy.may_issue_parts(technician, mine) and policy.may_issue_parts(colleague, nobodys)
    assert not policy.may_issue_parts(colleague, mine)
    assert not policy.may_record_steps(technician, mine)  # not started yet
    move_to(mine, "in_progress")
    assert policy.may_record_steps(technician, mine) and policy.may_do_field_work(technician, mine)
    assert not policy.may_do_field_work(people["viewer"], mine)
    assert not policy.may_change_work(people["viewer"]) and policy.may_change_work(technician)


def test_only_active_technicians_of_the_site_are_offered_for_assignment(people):
    elsewhere = TechnicianFactory(sites=[SiteFactory()])
    retired = TechnicianFactory(sites=[people["site"]], is_active=False)
    offered = set(policy.assignable_technicians(people["planner"], site=people["site"]))
    assert offered == {people["assignee"], people["colleague"]}
    assert elsewhere not in offered and retired not in offered
