"""Dispatch cards carry the work's SLA state and due time; the admin list shows and filters it."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from tests.factories import PlannerFactory, WorkOrderFactory, contract_covering, move_to
from workorders.choices import Status

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
CREATED = datetime(2026, 3, 24, 9, tzinfo=BERLIN)  # P3: respond by 13:00, at risk from 12:00


@pytest.fixture
def work(site):
    contract_covering(site)
    with time_machine.travel(CREATED, tick=False):
        risky = WorkOrderFactory(site=site, title="Seal leaks")
        move_to(risky, Status.APPROVED)
    with time_machine.travel(datetime(2026, 3, 24, 11, 30, tzinfo=BERLIN), tick=False):
        fresh = WorkOrderFactory(site=site, title="Check belt")
        move_to(fresh, Status.APPROVED)
    outside = WorkOrderFactory(site=site, priority=4, title="Paint rail")
    move_to(outside, Status.APPROVED)
    return risky, fresh, outside


@pytest.fixture
def paula(site):
    return PlannerFactory(username="paula", sites=[site])


def get(client_for, user, url, params=None):
    with time_machine.travel(datetime(2026, 3, 24, 12, 15, tzinfo=BERLIN), tick=False):
        return client_for(user).get(url, params or {}).content.decode()


def card(html, work_order):
    start = html.index(f'id="card-{work_order.pk}"')
    return html[start : html.index("</div>", start)]


def test_each_dispatch_card_under_a_contract_has_a_badge_with_its_due_time(client_for, paula, work):
    risky, fresh, outside = work
    html = get(client_for, paula, reverse("admin:planner-dispatch"))
    assert "At risk · due Tue 24 Mar 13:00" in card(html, risky)
    assert "On track · due Tue 24 Mar 15:30" in card(html, fresh)
    assert "sla-badge" not in card(html, outside)


def test_the_admin_list_shows_the_sla_column_and_filters_by_state(client_for, paula, work):
    risky, fresh, outside = work
    url = reverse("admin:workorders_workorder_changelist")
    html = get(client_for, paula, url, {"sla": "at_risk"})
    assert risky.number in html
    assert fresh.number not in html and outside.number not in html
    assert 'class="sla-at_risk"' in html
    on_track = get(client_for, paula, url, {"sla": "on_track"})
    assert fresh.number in on_track and risky.number not in on_track


def test_the_admin_hold_action_records_the_chosen_hold_reason(client_for, paula, site):
    wo = WorkOrderFactory(site=site)
    move_to(wo, Status.IN_PROGRESS)
    client_for(paula).post(
        reverse("admin:workorders_workorder_changelist"),
        {
            "action": "put_on_hold",
            "_selected_action": [wo.pk],
            "index": 0,
            "hold_reason": "waiting_for_vendor",
        },
    )
    wo.refresh_from_db()
    assert (wo.status, wo.hold_reason) == (Status.ON_HOLD, "waiting_for_vendor")
