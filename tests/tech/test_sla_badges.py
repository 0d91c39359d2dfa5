"""Technician pages show work at risk of breaching its contract, with the due time."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.factories import WorkOrderFactory, contract_covering, move_to
from workorders.choices import HoldReason, Status

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
CREATED = datetime(2026, 3, 24, 9, tzinfo=BERLIN)  # P3: respond by 13:00, at risk from 12:00


@pytest.fixture
def work(site, technician):
    contract_covering(site)
    with time_machine.travel(CREATED, tick=False):
        wo = WorkOrderFactory(site=site, assignee=technician, title="Seal leaks")
        move_to(wo, Status.SCHEDULED)
    return wo


def page(client_for, user, url, when):
    with time_machine.travel(when, tick=False):
        return client_for(user).get(url).content.decode()


def test_my_work_rows_show_at_risk_with_the_due_time_in_the_sites_zone(
    client_for, technician, work
):
    html = page(client_for, technician, "/tech/", datetime(2026, 3, 24, 12, tzinfo=BERLIN))
    assert "At risk · due Tue 24 Mar 13:00 CET" in html


def test_the_work_order_page_shows_breached_with_the_due_time(client_for, technician, work):
    url = f"/tech/work-orders/{work.pk}/"
    html = page(client_for, technician, url, datetime(2026, 3, 24, 14, tzinfo=BERLIN))
    assert "Breached · was due Tue 24 Mar 13:00 CET" in html


def test_work_on_track_has_no_badge(client_for, technician, work):
    url = f"/tech/work-orders/{work.pk}/"
    html = page(client_for, technician, url, datetime(2026, 3, 24, 10, tzinfo=BERLIN))
    assert "sla-" not in html


def test_the_pause_form_offers_the_hold_reason_codes_and_records_the_chosen(
    client_for, technician, work
):
    with time_machine.travel(datetime(2026, 3, 24, 10, tzinfo=BERLIN), tick=False):
        client = client_for(technician)
        client.post(f"/tech/work-orders/{work.pk}/start/")
        html = client.get(f"/tech/work-orders/{work.pk}/").content.decode()
        assert 'name="hold_reason"' in html
        assert 'value="waiting_for_client"' in html
        client.post(
            f"/tech/work-orders/{work.pk}/pause/",
            {"reason": "Client decides", "hold_reason": HoldReason.WAITING_FOR_CLIENT},
        )
    work.refresh_from_db()
    assert work.status == Status.ON_HOLD
    assert work.hold_reason == HoldReason.WAITING_FOR_CLIENT
