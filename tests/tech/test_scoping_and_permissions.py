import pytest
from django.utils import timezone

from tests.factories import AssetFactory, TechnicianFactory, image_upload, scheduled_work
from workorders.choices import Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def foreign_work(other_site):
    return scheduled_work(other_site, assignee=TechnicianFactory(sites=[other_site]))


@pytest.mark.parametrize(
    "path",
    [
        "/tech/work-orders/{wo}/",
        "/tech/work-orders/{wo}/parts/search/?part_q=a",
        "/tech/assets/{asset}/",
    ],
)
def test_another_sites_pages_are_404(client_for, technician, foreign_work, path):
    url = path.format(wo=foreign_work.pk, asset=foreign_work.asset_id)
    assert client_for(technician).get(url).status_code == 404


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("start", {}),
        ("pause", {"reason": "x"}),
        ("complete", {}),
        ("labour", {"hours": "1"}),
        ("parts", {"stock": "1", "quantity": "1"}),
        ("notes", {"message": "hello"}),
    ],
)
def test_another_sites_work_cannot_be_acted_on(client_for, technician, foreign_work, action, data):
    response = client_for(technician).post(f"/tech/work-orders/{foreign_work.pk}/{action}/", data)
    assert response.status_code == 404
    foreign_work.refresh_from_db()
    assert foreign_work.status == Status.SCHEDULED
    assert foreign_work.events.filter(kind="note").count() == 0


def test_another_sites_asset_cannot_get_a_problem_report(client_for, technician, other_site):
    asset = AssetFactory(site=other_site)
    response = client_for(technician).post(f"/tech/assets/{asset.pk}/report/", {"title": "x"})
    assert response.status_code == 404
    assert asset.work_orders.count() == 0


def test_another_sites_work_is_not_listed_or_found(client_for, technician, foreign_work, work):
    client = client_for(technician)
    html = client.get("/tech/").content.decode()
    assert work.number in html and foreign_work.number not in html
    found = client.get("/tech/", {"q": foreign_work.number}).content.decode()
    assert "Nothing found at your sites." in found


def test_work_assigned_to_someone_else_cannot_be_started_or_paused(
    client_for, technician, colleague, site
):
    theirs = scheduled_work(site, assignee=colleague)
    client = client_for(technician)
    page = client.get(f"/tech/work-orders/{theirs.pk}/").content.decode()
    assert f"/tech/work-orders/{theirs.pk}/start/" not in page
    response = client.post(f"/tech/work-orders/{theirs.pk}/start/")
    assert response.status_code == 403
    assert "is assigned to someone else" in response.content.decode()
    theirs.refresh_from_db()
    assert theirs.status == Status.SCHEDULED


def test_technicians_record_their_own_time_only_on_their_own_work(
    client_for, technician, colleague, site
):
    theirs = scheduled_work(site, assignee=colleague)
    client_for(colleague).post(f"/tech/work-orders/{theirs.pk}/start/")
    response = client_for(technician).post(f"/tech/work-orders/{theirs.pk}/pause/", {"reason": "x"})
    assert response.status_code == 403
    theirs.refresh_from_db()
    assert theirs.status == Status.IN_PROGRESS


def test_starting_unassigned_work_picks_it_up(client_for, technician, site):
    open_work = scheduled_work(site)
    client = client_for(technician)
    assert open_work.number in client.get("/tech/").content.decode()
    assert client.post(f"/tech/work-orders/{open_work.pk}/start/").status_code == 302
    open_work.refresh_from_db()
    assert (open_work.status, open_work.assignee) == (Status.IN_PROGRESS, technician)


def test_customer_viewers_see_their_sites_work_read_only(client_for, viewer, work, codes):
    client = client_for(viewer)
    home = client.get("/tech/").content.decode()
    assert "Work at our sites" in home and work.number in home
    page = client.get(f"/tech/work-orders/{work.pk}/").content.decode()
    assert work.title in page
    for action in ("start", "labour", "notes", "photos", "parts"):
        assert f"/tech/work-orders/{work.pk}/{action}/" not in page
    response = client.post(f"/tech/work-orders/{work.pk}/start/")
    assert response.status_code == 403
    assert "Customer viewers cannot change work orders." in response.content.decode()
    note = client.post(f"/tech/work-orders/{work.pk}/notes/", {"message": "hi"})
    assert note.status_code == 403
    work.refresh_from_db()
    assert work.status == Status.SCHEDULED


def test_customer_viewers_request_work_which_arrives_requested_as_a_request(
    client_for, viewer, site, pump
):
    client = client_for(viewer)
    bad = client.post("/tech/requests/new/", {"site": site.pk, "asset_tag": "NOPE", "title": ""})
    assert bad.status_code == 400
    html = bad.content.decode()
    assert 'data-field="asset_tag"' in html and 'data-field="title"' in html
    response = client.post(
        "/tech/requests/new/",
        {"site": site.pk, "asset_tag": "p-101", "title": "Leak at the pump", "description": ""},
    )
    assert response.status_code == 302
    wo = pump.work_orders.get()
    assert (wo.status, wo.source, wo.requested_by) == ("requested", "request", viewer)


def test_only_planners_print_labels(client_for, technician, viewer, pump):
    for user in (technician, viewer):
        assert client_for(user).get(f"/tech/assets/{pump.pk}/label/").status_code == 403
        assert client_for(user).get(f"/tech/assets/labels/?ids={pump.pk}").status_code == 403


def test_photos_are_served_only_to_users_of_the_site(
    client_for, technician, work, other_site, tmp_path, settings
):

    settings.MEDIA_ROOT = tmp_path
    client = client_for(technician)
    upload = image_upload("PNG", name="x")
    client.post(f"/tech/work-orders/{work.pk}/photos/", {"image": upload, "caption": "Coupling"})
    photo = work.photos.get()
    response = client.get(f"/tech/photos/{photo.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == (tmp_path / photo.image.name).read_bytes()
    stranger = TechnicianFactory(sites=[other_site])
    assert client_for(stranger).get(f"/tech/photos/{photo.pk}/").status_code == 404
    assert not str(photo.image.name).endswith("x.png")


def test_a_file_that_is_not_an_image_is_refused_whatever_its_name(
    client_for, technician, work, tmp_path, settings
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    fake = SimpleUploadedFile("photo.jpg", b"<script>alert(1)</script>", content_type="image/jpeg")
    response = client_for(technician).post(f"/tech/work-orders/{work.pk}/photos/", {"image": fake})
    assert response.status_code == 400
    assert "Only photos are accepted" in response.content.decode()
    assert work.photos.count() == 0


def test_a_photo_over_the_size_limit_is_refused(client_for, technician, work, tmp_path, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tech.validators import MAX_PHOTO_BYTES

    settings.MEDIA_ROOT = tmp_path
    big = SimpleUploadedFile("big.jpg", b"\xff\xd8\xff" + b"\x00" * MAX_PHOTO_BYTES)
    response = client_for(technician).post(f"/tech/work-orders/{work.pk}/photos/", {"image": big})
    assert response.status_code == 400
    assert "at most 10 MB are accepted" in response.content.decode()


@pytest.mark.parametrize("path", ["start/", "pause/", "notes/", "labour/", "parts/", "complete/"])
def test_posts_without_a_csrf_token_are_refused(client_for, technician, work, path):
    client = client_for(technician, csrf=True)
    response = client.post(f"/tech/work-orders/{work.pk}/{path}", {"reason": "x", "hours": "1"})
    assert response.status_code == 403
    work.refresh_from_db()
    assert work.status == Status.SCHEDULED
    assert work.labour.count() == 0


def test_a_post_with_the_csrf_token_from_the_page_is_accepted(client_for, technician, work):
    client = client_for(technician, csrf=True)
    client.get(f"/tech/work-orders/{work.pk}/")
    token = client.cookies["csrftoken"].value
    response = client.post(f"/tech/work-orders/{work.pk}/start/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    work.refresh_from_db()
    assert work.status == Status.IN_PROGRESS
    assert work.started_at <= timezone.now()
