"""The technician app as an offline web app: its worker, manifest, page list, logout and the
idempotent photo upload the offline queue relies on (docs/offline.md)."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tech import pwa, services
from tech.models import WorkOrderPhoto
from tests.concurrency import at_once
from tests.factories import (
    AssetFactory,
    TechnicianFactory,
    image_bytes,
    inspection_route,
    round_run,
    scheduled_work,
)
from workorders.choices import Status

pytestmark = pytest.mark.django_db

PNG = image_bytes("PNG")


@pytest.fixture
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def upload():
    return SimpleUploadedFile("x.png", PNG, content_type="image/png")


def test_the_service_worker_is_served_under_tech_uncached_with_the_static_version(client):
    answer = client.get("/tech/sw.js")

    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/javascript")
    assert answer["Cache-Control"] == "no-cache"
    assert answer["Service-Worker-Allowed"] == "/tech/"
    body = answer.content.decode()
    assert f'const VERSION = "{pwa.static_version()}";' in body
    assert "/static/tech/offline.js" in body
    assert "{{" not in body and "{%" not in body


def test_the_manifest_installs_the_app_at_tech_with_png_icons(client):
    answer = client.get("/tech/manifest.webmanifest")

    assert answer["Content-Type"] == "application/manifest+json"
    data = json.loads(answer.content)
    assert data["start_url"] == data["scope"] == "/tech/"
    assert [icon["sizes"] for icon in data["icons"]] == ["192x192", "512x512"]
    assert all(icon["src"].endswith(".png") for icon in data["icons"])


def test_every_page_links_the_manifest_and_the_offline_script(client_for, technician, work):
    html = client_for(technician).get(f"/tech/work-orders/{work.pk}/").content.decode()

    assert 'rel="manifest" href="/tech/manifest.webmanifest"' in html
    assert 'src="/static/tech/offline.js"' in html


def test_the_offline_page_list_holds_my_work_for_the_next_days_and_its_assets(
    client_for, technician, work, site
):
    other = TechnicianFactory(username="otto", sites=[site])
    not_mine = scheduled_work(site, assignee=other)

    data = client_for(technician).get("/tech/offline/pages.json").json()

    assert data["user"] == technician.pk
    assert data["urls"] == [
        "/tech/",
        f"/tech/work-orders/{work.pk}/",
        f"/tech/assets/{work.asset_id}/",
    ]
    assert f"/tech/work-orders/{not_mine.pk}/" not in data["urls"]


def test_the_offline_page_list_holds_my_rounds_of_the_day_and_their_points_assets(
    client_for, technician, colleague, site, pump, other_site
):
    route, _, _ = inspection_route(site, pump, code="R-PUMPS")
    run = round_run(route)
    round_run(route, due_at=run.due_at + timezone.timedelta(days=3))  # not today
    theirs, _, _ = inspection_route(site, AssetFactory(site=site), code="R-CARL")
    round_run(theirs, assignee=colleague)
    foreign, _, _ = inspection_route(other_site, AssetFactory(site=other_site), code="R-SOUTH")
    foreign_run = round_run(foreign)

    data = client_for(technician).get("/tech/offline/pages.json").json()

    assert data["urls"] == ["/tech/", f"/tech/rounds/{run.pk}/", f"/tech/assets/{pump.pk}/"]
    assert f"/tech/rounds/{foreign_run.pk}/" not in data["urls"]


def test_the_offline_page_list_costs_the_same_queries_for_more_work_and_rounds(
    client_for, technician, work, site, pump, django_assert_num_queries
):
    client = client_for(technician)
    route, _, _ = inspection_route(site, pump, code="R-PUMPS")
    round_run(route)
    client.get("/tech/offline/pages.json")  # the session and the user are loaded once
    with CaptureQueriesContext(connection) as few:
        small = client.get("/tech/offline/pages.json").json()
    for number in range(4):
        scheduled_work(site, assignee=technician)
        other, _, _ = inspection_route(site, AssetFactory(site=site), code=f"R-{number}")
        round_run(other)
    with django_assert_num_queries(len(few.captured_queries)):
        more = client.get("/tech/offline/pages.json").json()
    assert len(more["urls"]) == len(small["urls"]) + 4 * 2 + 4 * 2


def test_the_offline_page_list_asks_for_a_login_with_a_403(client):
    answer = client.get("/tech/offline/pages.json")

    assert answer.status_code == 403
    assert answer.json() == {"detail": "Log in first."}


def test_technician_pages_name_their_user_for_the_worker_and_anonymous_ones_do_not(
    client, client_for, technician
):
    assert client_for(technician).get("/tech/")[pwa.USER_HEADER] == str(technician.pk)
    assert pwa.USER_HEADER not in client.get("/tech/login/")
    assert pwa.USER_HEADER not in client_for(technician).get("/api/v1/")


def test_logout_tells_the_browser_to_clear_caches_and_storage(client_for, technician):
    answer = client_for(technician).post("/tech/logout/")

    assert answer.status_code == 302
    assert answer["Clear-Site-Data"] == '"cache", "storage"'


def test_a_scheduled_work_order_holds_the_started_forms_hidden_for_the_offline_queue(
    client_for, technician, work, codes
):
    html = client_for(technician).get(f"/tech/work-orders/{work.pk}/").content.decode()

    assert 'data-queue="start"' in html
    assert 'data-queue="step"' in html and "data-after-start" in html
    assert 'data-queue="complete"' in html
    # The 2 steps and Complete wait for the start; labour, photos and notes are open already.
    assert html.count("hidden data-after-start") == 3


def test_a_started_work_order_shows_its_forms_without_hiding(client_for, technician, work):
    client = client_for(technician)
    client.post(f"/tech/work-orders/{work.pk}/start/")

    html = client.get(f"/tech/work-orders/{work.pk}/").content.decode()

    assert 'data-queue="step"' in html
    assert "data-after-start" not in html


def test_another_technicians_work_order_offers_no_hidden_forms(client_for, site, work):
    other = TechnicianFactory(username="otto", sites=[site])

    html = client_for(other).get(f"/tech/work-orders/{work.pk}/").content.decode()

    assert "data-after-start" not in html


# ---------------------------------------------------------------- photos, exactly once


def test_a_replayed_photo_upload_is_stored_once_and_answers_as_the_first(
    client_for, technician, work, media
):
    client = client_for(technician)
    client.post(f"/tech/work-orders/{work.pk}/start/")
    url = f"/tech/work-orders/{work.pk}/photos/"

    first = client.post(url, {"image": upload(), "caption": "Coupling"}, HTTP_IDEMPOTENCY_KEY="p-1")
    again = client.post(url, {"image": upload(), "caption": "Coupling"}, HTTP_IDEMPOTENCY_KEY="p-1")
    other = client.post(url, {"image": upload(), "caption": "Seal"}, HTTP_IDEMPOTENCY_KEY="p-2")

    assert first.status_code == again.status_code == other.status_code == 302
    assert again["Location"] == first["Location"]
    assert [p.caption for p in work.photos.order_by("pk")] == ["Coupling", "Seal"]
    assert len([p for p in media.rglob("*") if p.is_file()]) == 2
    assert work.events.filter(data__has_key="photo").count() == 2


def test_a_photo_key_used_on_another_work_order_is_refused(
    client_for, technician, work, site, media
):
    second = scheduled_work(site, assignee=technician)
    client = client_for(technician)
    for wo in (work, second):
        client.post(f"/tech/work-orders/{wo.pk}/start/")
    client.post(
        f"/tech/work-orders/{work.pk}/photos/", {"image": upload()}, HTTP_IDEMPOTENCY_KEY="k"
    )

    answer = client.post(
        f"/tech/work-orders/{second.pk}/photos/", {"image": upload()}, HTTP_IDEMPOTENCY_KEY="k"
    )

    assert answer.status_code == 400
    assert services.KEY_USED_ELSEWHERE in answer.content.decode()
    assert not second.photos.exists()


def test_the_same_photo_key_per_user_is_independent(client_for, technician, work, planner, media):
    client_for(technician).post(f"/tech/work-orders/{work.pk}/start/")
    for user in (technician, planner):
        services.work_order_photo_add(
            work_order=work, by=user, upload=upload(), idempotency_key="same"
        )

    assert work.photos.count() == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgresql(reason="two connections insert at once; SQLite locks the table")
def test_two_concurrent_uploads_with_one_key_store_one_photo(technician, work, media):
    work.status = Status.IN_PROGRESS
    work.save(update_fields=["status"])

    def add():
        return services.work_order_photo_add(
            work_order=work, by=technician, upload=upload(), idempotency_key="race"
        ).pk

    results = at_once(add, 2)

    assert len(set(results)) == 1
    assert WorkOrderPhoto.objects.filter(work_order=work).count() == 1
    assert len([p for p in media.rglob("*") if p.is_file()]) == 1
