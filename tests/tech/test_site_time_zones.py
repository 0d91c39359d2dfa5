"""Technician pages show times in the site's own time zone, whatever the server's is."""

from datetime import UTC, datetime

import pytest

from tests.factories import SiteFactory, TechnicianFactory, scheduled_work

pytestmark = pytest.mark.django_db

# Monday 25 Nov 2030, 20:00 UTC: 14:00 in Chicago (CST, UTC-6), 04:00 on the 26th in Singapore.
DUE = datetime(2030, 11, 25, 20, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _server_zone_is_neither_site(settings):
    settings.TIME_ZONE = "Europe/Lisbon"


@pytest.fixture
def chicago():
    return SiteFactory(code="chi", name="Chicago plant", timezone="America/Chicago")


@pytest.fixture
def singapore():
    return SiteFactory(code="sin", name="Singapore plant", timezone="Asia/Singapore")


@pytest.fixture
def roamer(chicago, singapore):
    return TechnicianFactory(username="rita", sites=[chicago, singapore])


def _section(html: str, section_id: str) -> str:
    start = html.index(f'id="{section_id}"')
    return html[start : html.find("</section>", start)]


def test_the_work_order_page_shows_due_time_labour_and_timeline_in_the_sites_zone(
    client_for, roamer, chicago, time_machine
):
    time_machine.move_to(datetime(2030, 11, 25, 12, 0, tzinfo=UTC), tick=False)
    wo = scheduled_work(chicago, assignee=roamer, due_at=DUE)
    client = client_for(roamer)
    assert client.post(f"/tech/work-orders/{wo.pk}/labour/", {"hours": "1"}).status_code == 302

    html = client.get(f"/tech/work-orders/{wo.pk}/").content.decode()
    assert '<dd id="wo-due">Mon 25 Nov 2030 14:00 CST</dd>' in html
    assert "25 Nov 05:00\u201306:00" in _section(html, "labour")
    timeline = _section(html, "timeline")
    assert "25 Nov 06:00" in timeline and "12:00" not in timeline
    assert "America/Chicago" in timeline


def test_the_work_order_page_of_a_singapore_site_shows_singapore_time(
    client_for, roamer, singapore, time_machine
):
    time_machine.move_to(datetime(2030, 11, 25, 12, 0, tzinfo=UTC), tick=False)
    wo = scheduled_work(singapore, assignee=roamer, due_at=DUE)
    html = client_for(roamer).get(f"/tech/work-orders/{wo.pk}/").content.decode()
    assert '<dd id="wo-due">Tue 26 Nov 2030 04:00 +08</dd>' in html


def test_my_work_shows_each_row_in_its_own_sites_zone(
    client_for, roamer, chicago, singapore, time_machine
):
    time_machine.move_to(datetime(2030, 11, 24, 12, 0, tzinfo=UTC), tick=False)
    in_chicago = scheduled_work(chicago, assignee=roamer, due_at=DUE)
    in_singapore = scheduled_work(singapore, assignee=roamer, due_at=DUE)
    html = client_for(roamer).get("/tech/").content.decode()
    rows = {
        wo.number: html[html.index(wo.number) : html.index("</li>", html.index(wo.number))]
        for wo in (in_chicago, in_singapore)
    }
    assert "due Mon 25 Nov 14:00 CST" in rows[in_chicago.number]
    assert "due Tue 26 Nov 04:00 +08" in rows[in_singapore.number]


def test_due_today_means_before_midnight_at_the_site(
    client_for, roamer, chicago, singapore, time_machine
):
    # 23:00 UTC on the 25th: 17:00 on the 25th in Chicago, 07:00 on the 26th in Singapore.
    time_machine.move_to(datetime(2030, 11, 25, 23, 0, tzinfo=UTC), tick=False)
    tonight_in_chicago = scheduled_work(
        chicago, assignee=roamer, due_at=datetime(2030, 11, 26, 3, 0, tzinfo=UTC)
    )
    tonight_in_singapore = scheduled_work(
        singapore, assignee=roamer, due_at=datetime(2030, 11, 26, 12, 0, tzinfo=UTC)
    )
    tomorrow_in_singapore = scheduled_work(
        singapore, assignee=roamer, due_at=datetime(2030, 11, 26, 17, 0, tzinfo=UTC)
    )
    html = client_for(roamer).get("/tech/").content.decode()
    today = _section(html, "today")
    assert tonight_in_chicago.number in today and "due Mon 25 Nov 21:00 CST" in today
    assert tonight_in_singapore.number in today and "due Tue 26 Nov 20:00 +08" in today
    assert tomorrow_in_singapore.number in _section(html, "upcoming")


def test_the_asset_page_lists_open_work_in_the_sites_zone(
    client_for, roamer, chicago, time_machine
):
    time_machine.move_to(datetime(2030, 11, 24, 12, 0, tzinfo=UTC), tick=False)
    wo = scheduled_work(chicago, assignee=roamer, due_at=DUE)
    html = client_for(roamer).get(f"/tech/assets/{wo.asset_id}/").content.decode()
    assert "due Mon 25 Nov 14:00 CST" in _section(html, "open-work")
