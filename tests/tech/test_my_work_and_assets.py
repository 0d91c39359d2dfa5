import pytest
from django.utils import timezone

from assets.models import MeterReading
from tests.factories import (
    AssetFactory,
    MeterFactory,
    inspection_route,
    round_run,
    scheduled_work,
)

# Depends on the site's day: runs at midday and just before midnight (tests.clock).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site_clock")]


def _section(html: str, section_id: str) -> str:
    start = html.index(f'id="{section_id}"')
    end = html.find("</section>", start)
    return html[start:end]


def test_my_work_is_grouped_overdue_today_upcoming_and_sorted_by_priority(
    client_for, technician, site, time_machine
):
    time_machine.move_to(timezone.now().replace(hour=6, minute=0), tick=False)
    now = timezone.now()
    late = scheduled_work(site, assignee=technician, title="Late", due_at=now.replace(hour=5))
    today_low = scheduled_work(
        site, assignee=technician, title="Today low", priority=4, due_at=now.replace(hour=9)
    )
    today_high = scheduled_work(
        site, assignee=technician, title="Today high", priority=1, due_at=now.replace(hour=20)
    )
    later = scheduled_work(
        site, assignee=technician, title="Later", due_at=now + timezone.timedelta(days=3)
    )
    html = client_for(technician).get("/tech/").content.decode()
    assert late.number in _section(html, "overdue")
    today = _section(html, "today")
    assert today.index(today_high.number) < today.index(today_low.number)
    assert later.number in _section(html, "upcoming")
    assert late.number not in _section(html, "upcoming")


def test_my_work_renders_in_a_bounded_number_of_queries(
    client_for, technician, site, django_assert_max_num_queries
):
    for _ in range(6):
        scheduled_work(site, assignee=technician)
        scheduled_work(site)
    for _ in range(3):
        route, _, _ = inspection_route(site, AssetFactory(site=site))
        round_run(route)
    client = client_for(technician)
    with django_assert_max_num_queries(9):  # one of them lists today's rounds, however many
        response = client.get("/tech/", {"q": "P-"})
    assert response.status_code == 200
    assert response.content.decode().count('class="wo-row') >= 12


def test_search_finds_work_by_number_and_by_asset_tag(client_for, technician, work):
    client = client_for(technician)
    by_number = client.get("/tech/", {"q": str(work.pk)}).content.decode()
    assert work.number in _section(by_number, "results")
    by_tag = client.get("/tech/", {"q": "p-101"}).content.decode()
    results = _section(by_tag, "results")
    assert work.number in results and f"/tech/assets/{work.asset_id}/" in results


def test_the_asset_page_shows_open_work_history_and_meters(
    client_for, technician, work, pump, django_assert_max_num_queries
):
    meter = MeterFactory(asset=pump, code="hours", name="Running hours", unit="h")
    for value in (100, 250):
        MeterReading.objects.create(meter=meter, value=value, observed_at=timezone.now())
    for _ in range(3):
        scheduled_work(pump.site, asset=pump)
    client = client_for(technician)
    with django_assert_max_num_queries(10):
        response = client.get(f"/tech/assets/{pump.pk}/")
    html = response.content.decode()
    assert work.number in _section(html, "open-work")
    assert "250 h" in _section(html, "meters")
    assert "AREA-1" in html and "Criticality B" in html


def test_reporting_a_problem_creates_a_requested_work_request(client_for, technician, pump):
    client = client_for(technician)
    empty = client.post(f"/tech/assets/{pump.pk}/report/", {"title": ""})
    assert empty.status_code == 400
    assert 'data-field="title"' in empty.content.decode()
    response = client.post(
        f"/tech/assets/{pump.pk}/report/", {"title": "Seal leaking", "description": "Drips"}
    )
    assert response.status_code == 302
    wo = pump.work_orders.get(title="Seal leaking")
    assert (wo.status, wo.source, wo.requested_by, wo.site_id) == (
        "requested",
        "request",
        technician,
        pump.site_id,
    )
    assert wo.number in client.get(response["Location"]).content.decode()


def test_a_label_encodes_the_absolute_url_of_the_assets_page(client_for, planner, pump, settings):
    settings.SITE_URL = "https://cmms.example.com"
    response = client_for(planner).get(f"/tech/assets/{pump.pk}/label/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<svg" in html and "P-101" in html
    from tech.views import asset_url, qr_svg

    assert asset_url(pump) == f"https://cmms.example.com/tech/assets/{pump.pk}/"
    assert qr_svg(asset_url(pump)) in html
    assert qr_svg("https://cmms.example.com/tech/assets/0/") not in html


def test_a_label_sheet_for_a_site_holds_one_label_per_asset(
    client_for, planner, site, other_site, django_assert_max_num_queries
):
    assets = [AssetFactory(site=site) for _ in range(5)]
    AssetFactory(site=other_site)
    client = client_for(planner)
    with django_assert_max_num_queries(6):
        response = client.get("/tech/assets/labels/", {"site": site.pk})
    html = response.content.decode()
    assert html.count('<figure class="label">') == 5
    assert all(a.tag in html for a in assets)
    picked = client.get("/tech/assets/labels/", {"ids": f"{assets[0].pk},{assets[1].pk}"})
    assert picked.content.decode().count('<figure class="label">') == 2
    assert client.get("/tech/assets/labels/", {"ids": "1,x"}).status_code == 400


def test_login_page_logs_in_and_follows_next(client, technician, work):
    response = client.post(
        "/tech/login/",
        {"username": "tina", "password": "pw-for-tests-1", "next": f"/tech/work-orders/{work.pk}/"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/tech/work-orders/{work.pk}/"
    from django.test import Client

    bad = Client().post("/tech/login/", {"username": "tina", "password": "wrong"})
    assert bad.status_code == 200
    assert "Please enter a correct" in bad.content.decode()


def test_the_root_redirects_to_the_technician_app(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/tech/"
