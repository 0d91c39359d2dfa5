"""Client approval of work estimated above the contract's not-to-exceed amount: the services,
the lifecycle's gate and the API."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditEntry
from cmms.errors import NotPermitted, TransitionNotAllowed
from contracts.choices import ClientApproval
from tests.factories import (
    ContractFactory,
    CustomerViewerFactory,
    WorkOrderFactory,
    move_to,
)
from workorders import services
from workorders.choices import EventKind, Status
from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db

LIMIT = Decimal("1000.00")


@pytest.fixture
def contract(site):
    return ContractFactory(sites=[site], not_to_exceed=LIMIT)


@pytest.fixture
def work(site, contract):
    return WorkOrderFactory(site=site, contract=contract)


def estimate(work, amount, by):
    return services.work_order_estimate_set(work_order=work, estimated_cost=Decimal(amount), by=by)


def test_an_estimate_above_the_limit_asks_the_client_on_the_timeline_and_audit(work, planner):
    estimate(work, "1200.00", planner)
    work.refresh_from_db()
    assert work.client_approval == ClientApproval.PENDING
    event = work.events.get(kind=EventKind.CLIENT_APPROVAL)
    assert "1200.00 EUR" in event.message
    assert "1000.00 EUR" in event.message
    assert AuditEntry.objects.filter(action="work_order.client_approval_request").count() == 1
    assert AuditEntry.objects.filter(action="work_order.estimate").count() == 1


def test_an_estimate_at_the_limit_or_without_a_contract_needs_no_approval(work, site, planner):
    estimate(work, "1000.00", planner)
    assert work.client_approval == ClientApproval.NOT_REQUIRED
    outside = WorkOrderFactory(site=site)
    WorkOrder.objects.filter(pk=outside.pk).update(contract=None)  # created before the contract
    outside.refresh_from_db()
    estimate(outside, "99999.00", planner)
    assert outside.client_approval == ClientApproval.NOT_REQUIRED


def test_estimated_cost_at_creation_asks_the_client(site, contract, planner):
    work = WorkOrderFactory(
        site=site, contract=contract, estimated_cost=Decimal("5000"), by=planner
    )
    work.refresh_from_db()
    assert work.client_approval == ClientApproval.PENDING
    assert work.events.filter(kind=EventKind.CLIENT_APPROVAL).count() == 1


@pytest.mark.parametrize("to", [Status.APPROVED, Status.SCHEDULED])
def test_the_lifecycle_refuses_planning_pending_work(work, planner, to):
    if to == Status.SCHEDULED:
        move_to(work, Status.APPROVED)
    estimate(work, "1500", planner)
    with pytest.raises(TransitionNotAllowed) as refused:
        services.work_order_transition(work_order=work, to=to, by=planner)
    assert refused.value.code == "client_approval_pending"


def test_the_lifecycle_refuses_starting_and_resuming_pending_work(work, planner):
    move_to(work, Status.SCHEDULED)
    estimate(work, "1500", planner)
    with pytest.raises(TransitionNotAllowed) as refused:
        services.work_order_transition(work_order=work, to=Status.IN_PROGRESS, by=planner)
    assert refused.value.code == "client_approval_pending"


def test_resuming_is_refused_when_re_estimated_above_while_on_hold(work, planner):
    move_to(work, Status.ON_HOLD)
    estimate(work, "1500", planner)
    with pytest.raises(TransitionNotAllowed):
        services.work_order_transition(work_order=work, to=Status.IN_PROGRESS, by=planner)


def test_pending_and_rejected_work_may_still_be_cancelled(work, planner, viewer):
    estimate(work, "1500", planner)
    services.work_order_transition(
        work_order=work, to=Status.CANCELLED, by=planner, reason="too dear"
    )
    assert work.status == Status.CANCELLED


def test_the_client_approves_and_the_work_proceeds(work, planner, viewer):
    estimate(work, "1500", planner)
    services.work_order_client_decide(work_order=work, approve=True, comment="ok", by=viewer)
    work.refresh_from_db()
    assert (work.client_approval, work.client_approval_by, work.client_approval_comment) == (
        ClientApproval.APPROVED,
        viewer,
        "ok",
    )
    assert work.client_approval_at is not None
    move_to(work, Status.IN_PROGRESS, by=planner)
    assert work.status == Status.IN_PROGRESS
    assert AuditEntry.objects.filter(action="work_order.client_approval_decide").count() == 1


def test_a_rejection_blocks_until_a_planner_re_estimates(work, planner, viewer):
    estimate(work, "1500", planner)
    services.work_order_client_decide(
        work_order=work, approve=False, comment="Too expensive", by=viewer
    )
    with pytest.raises(TransitionNotAllowed) as refused:
        services.work_order_transition(work_order=work, to=Status.APPROVED, by=planner)
    assert refused.value.code == "client_approval_rejected"
    estimate(work, "1800", planner)  # still above: the client is asked again
    assert work.client_approval == ClientApproval.PENDING
    estimate(work, "900", planner)  # within the limit: no approval needed
    assert work.client_approval == ClientApproval.NOT_REQUIRED
    services.work_order_transition(work_order=work, to=Status.APPROVED, by=planner)
    assert work.status == Status.APPROVED


def test_re_estimating_above_after_an_approval_asks_again_and_under_keeps_it(work, planner, viewer):
    estimate(work, "1500", planner)
    services.work_order_client_decide(work_order=work, approve=True, by=viewer)
    estimate(work, "800", planner)
    assert work.client_approval == ClientApproval.APPROVED
    estimate(work, "2000", planner)
    assert work.client_approval == ClientApproval.PENDING


def test_a_rejection_needs_a_comment(work, planner, viewer):
    estimate(work, "1500", planner)
    with pytest.raises(ValidationError) as refused:
        services.work_order_client_decide(work_order=work, approve=False, comment=" ", by=viewer)
    assert "comment" in refused.value.message_dict


def test_only_a_customer_viewer_of_the_site_decides(work, planner, technician, other_site):
    estimate(work, "1500", planner)
    for someone in (planner, technician, CustomerViewerFactory(sites=[other_site])):
        with pytest.raises(NotPermitted):
            services.work_order_client_decide(work_order=work, approve=True, by=someone)
    work.refresh_from_db()
    assert work.client_approval == ClientApproval.PENDING


def test_deciding_work_that_is_not_pending_is_a_conflict(work, viewer):
    with pytest.raises(TransitionNotAllowed) as refused:
        services.work_order_client_decide(work_order=work, approve=True, by=viewer)
    assert refused.value.code == "client_approval_not_pending"


def test_only_planners_estimate(work, technician):
    with pytest.raises(NotPermitted):
        estimate(work, "10", technician)


# ------------------------------------------------------------------------------------ API


def url(work, action=""):
    return f"/api/v1/work-orders/{work.pk}/" + (f"{action}/" if action else "")


def test_the_api_refuses_pending_work_with_its_code(as_user, work, planner):
    estimate(work, "1500", planner)
    response = as_user(planner).post(url(work, "transition"), {"to": "approved"}, format="json")
    assert response.status_code == 409
    assert response.data["code"] == "client_approval_pending"


def test_a_viewer_approves_through_the_api(as_user, work, planner, viewer):
    estimate(work, "1500", planner)
    response = as_user(viewer).post(
        url(work, "client-approval"), {"approve": True, "comment": "go"}, format="json"
    )
    assert response.status_code == 200, response.data
    assert response.data["client_approval"] == "approved"
    assert response.data["client_approval_by"] == viewer.pk
    assert response.data["estimated_cost"] == "1500.00"


def test_a_rejection_without_a_comment_is_a_400(as_user, work, planner, viewer):
    estimate(work, "1500", planner)
    response = as_user(viewer).post(url(work, "client-approval"), {"approve": False}, format="json")
    assert response.status_code == 400
    assert "comment" in response.data


def test_the_decision_endpoint_is_scoped_and_for_viewers_only(
    as_user, work, planner, technician, other_site
):
    estimate(work, "1500", planner)
    stranger = CustomerViewerFactory(sites=[other_site])
    decide = {"approve": True}
    assert as_user(stranger).post(url(work, "client-approval"), decide).status_code == 404
    assert as_user(technician).post(url(work, "client-approval"), decide).status_code == 403
    assert as_user(planner).post(url(work, "client-approval"), decide).status_code == 403


def test_planners_estimate_through_patch_and_at_creation(as_user, work, planner, site, contract):
    response = as_user(planner).patch(url(work), {"estimated_cost": "1500.00"}, format="json")
    assert response.status_code == 200, response.data
    assert response.data["client_approval"] == "pending"
    response = as_user(planner).patch(url(work), {"client_approval": "approved"}, format="json")
    work.refresh_from_db()
    assert work.client_approval == ClientApproval.PENDING


def test_a_work_request_may_not_carry_an_estimate(as_user, viewer, site):
    response = as_user(viewer).post(
        "/api/v1/work-orders/",
        {"site": site.pk, "title": "Leak", "estimated_cost": "5"},
        format="json",
    )
    assert response.status_code == 403
