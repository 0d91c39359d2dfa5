"""The client's approval pages under /tech/: the list on the home page, the decision page."""

import re
from decimal import Decimal

import pytest

from contracts.choices import ClientApproval
from tests.factories import ContractFactory, CustomerViewerFactory, WorkOrderFactory
from workorders import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(site, planner):
    contract = ContractFactory(sites=[site], not_to_exceed=Decimal("1000.00"))
    work = WorkOrderFactory(
        site=site, contract=contract, title="Replace gearbox", description="Worn teeth."
    )
    services.work_order_estimate_set(work_order=work, estimated_cost=Decimal("4200.50"), by=planner)
    return work


def page(work):
    return f"/tech/work-orders/{work.pk}/approval/"


def test_the_viewers_home_lists_work_waiting_for_their_approval(client_for, viewer, pending):
    html = client_for(viewer).get("/tech/").content.decode()
    assert "Waiting for your approval" in html
    assert f'href="{page(pending)}"' in html
    assert "4200.50 EUR" in html


def test_the_home_page_has_no_approval_list_when_nothing_waits(client_for, viewer, site):
    assert "Waiting for your approval" not in client_for(viewer).get("/tech/").content.decode()


def test_the_page_shows_the_estimate_the_limit_and_the_work(client_for, viewer, pending):
    response = client_for(viewer).get(page(pending))
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'id="estimate">4200.50 EUR<', html)
    assert "1000.00 EUR" in html
    assert "Worn teeth." in html
    assert 'name="decision" value="approve"' in html
    assert 'name="decision" value="reject"' in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_approving_records_the_decision_and_says_so(client_for, viewer, pending):
    client = client_for(viewer, csrf=False)
    response = client.post(page(pending), {"decision": "approve", "comment": ""}, follow=True)
    assert response.redirect_chain[-1][0] == "/tech/"
    assert f"{pending.number}: approved" in response.content.decode()
    pending.refresh_from_db()
    assert (pending.client_approval, pending.client_approval_by) == (
        ClientApproval.APPROVED,
        viewer,
    )


def test_rejecting_without_a_comment_marks_the_comment_field(client_for, viewer, pending):
    response = client_for(viewer).post(page(pending), {"decision": "reject", "comment": ""})
    assert response.status_code == 400
    html = response.content.decode()
    textarea = re.search(r'<textarea [^>]*id="id_comment"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in textarea
    assert 'aria-describedby="id_comment-error"' in textarea
    pending.refresh_from_db()
    assert pending.client_approval == ClientApproval.PENDING


def test_rejecting_with_a_comment_records_it(client_for, viewer, pending):
    response = client_for(viewer).post(
        page(pending), {"decision": "reject", "comment": "Too dear; repair instead"}
    )
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.client_approval == ClientApproval.REJECTED
    assert pending.client_approval_comment == "Too dear; repair instead"


def test_a_decided_work_order_shows_the_decision_without_buttons(client_for, viewer, pending):
    client = client_for(viewer)
    client.post(page(pending), {"decision": "approve"})
    html = client.get(page(pending)).content.decode()
    assert 'value="approve"' not in html
    assert "Approved by" in html
    again = client.post(page(pending), {"decision": "approve"})
    assert again.status_code == 409


def test_a_viewer_of_another_site_gets_404_and_staff_get_403(
    client_for, pending, other_site, technician, planner
):
    stranger = CustomerViewerFactory(sites=[other_site])
    assert client_for(stranger).get(page(pending)).status_code == 404
    assert client_for(technician).get(page(pending)).status_code == 403
    assert client_for(planner).post(page(pending), {"decision": "approve"}).status_code == 403


def test_the_page_needs_a_csrf_token(client_for, viewer, pending):
    response = client_for(viewer, csrf=True).post(page(pending), {"decision": "approve"})
    assert response.status_code == 403
    pending.refresh_from_db()
    assert pending.client_approval == ClientApproval.PENDING


def test_the_work_order_page_links_the_viewer_to_the_decision(client_for, viewer, pending):
    html = client_for(viewer).get(f"/tech/work-orders/{pending.pk}/").content.decode()
    assert "Waiting for the client" in html
    assert f'href="{page(pending)}"' in html
