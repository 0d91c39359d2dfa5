"""Idempotency-Key on the technician pages' forms: the offline queue replays them safely."""

import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from sync.models import IdempotencyKey
from tests.factories import (
    PartFactory,
    StockFactory,
    StoreroomFactory,
    TechnicianFactory,
    image_bytes,
    scheduled_work,
)
from workorders import services as wo_services
from workorders.choices import EventKind, Status
from workorders.models import LabourEntry, StatusChange

pytestmark = pytest.mark.django_db


@pytest.fixture
def work(site, technician):
    return scheduled_work(site, assignee=technician)


def page(work, action):
    return f"/tech/work-orders/{work.pk}/{action}/"


def test_a_replayed_start_redirects_as_the_first_did_and_starts_once(client_for, technician, work):
    client = client_for(technician)
    first = client.post(page(work, "start"), {}, HTTP_IDEMPOTENCY_KEY="start-1")
    again = client.post(page(work, "start"), {}, HTTP_IDEMPOTENCY_KEY="start-1")

    assert first.status_code == again.status_code == 302
    assert again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true"
    work.refresh_from_db()
    assert work.status == Status.IN_PROGRESS
    assert StatusChange.objects.filter(work_order=work, to_status=Status.IN_PROGRESS).count() == 1


def test_a_replayed_labour_form_records_the_time_once(client_for, technician, work):
    client = client_for(technician)
    body = {"hours": "2", "note": "", "overtime": ""}
    first = client.post(page(work, "labour"), body, HTTP_IDEMPOTENCY_KEY="lab-1")
    again = client.post(page(work, "labour"), body, HTTP_IDEMPOTENCY_KEY="lab-1")

    assert first.status_code == 302
    assert again["Idempotent-Replayed"] == "true"
    assert LabourEntry.objects.filter(work_order=work, hours__gt=0).count() == 1


def test_a_replayed_note_is_added_once_and_another_note_with_its_key_is_422(
    client_for, technician, work
):
    client = client_for(technician)
    client.post(page(work, "notes"), {"message": "Coupling worn"}, HTTP_IDEMPOTENCY_KEY="n-1")
    again = client.post(
        page(work, "notes"), {"message": "Coupling worn"}, HTTP_IDEMPOTENCY_KEY="n-1"
    )
    other = client.post(
        page(work, "notes"), {"message": "Something else"}, HTTP_IDEMPOTENCY_KEY="n-1"
    )

    assert again.status_code == 302
    assert other.status_code == 422
    assert [e.message for e in work.events.filter(kind=EventKind.NOTE)] == ["Coupling worn"]


def test_a_refused_form_is_replayed_as_refused(client_for, technician, work):
    client = client_for(technician)
    first = client.post(page(work, "resume"), {}, HTTP_IDEMPOTENCY_KEY="res-1")
    again = client.post(page(work, "resume"), {}, HTTP_IDEMPOTENCY_KEY="res-1")

    assert first.status_code == 409
    assert again.status_code == 409
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"


def test_a_malformed_key_is_refused_on_a_page(client_for, technician, work):
    answer = client_for(technician).post(page(work, "start"), {}, HTTP_IDEMPOTENCY_KEY="x" * 300)

    assert answer.status_code == 400
    work.refresh_from_db()
    assert work.status == Status.SCHEDULED


def test_a_photo_upload_with_a_key_still_works_without_recording_the_key(
    client_for, technician, work, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("x.png", image_bytes("PNG"), content_type="image/png")
    answer = client_for(technician).post(
        page(work, "photos"), {"image": upload, "caption": "Coupling"}, HTTP_IDEMPOTENCY_KEY="p-1"
    )

    assert answer.status_code == 302
    assert work.photos.count() == 1
    assert not IdempotencyKey.objects.exists()


def error_summary(response) -> list[str]:
    """The refusal's sentences as the offline queue reads them (`[data-error-summary] li`)."""
    html = response.content.decode()
    start = html.index("data-error-summary")
    block = html[start : html.index("</div>", start)]
    return [re.sub(r"<[^>]+>", "", item).strip() for item in re.findall(r"<li>(.*?)</li>", block)]


def test_queued_actions_the_server_moved_past_are_refused_with_the_reason(
    client_for, site, technician, work
):
    """What the device shows for a refused queued action: work reassigned while offline, or a
    part the storeroom no longer holds. The refusal is kept under its key, like a success."""
    client = client_for(technician)
    client.post(page(work, "start"), {}, HTTP_IDEMPOTENCY_KEY="start-1")
    stock = StockFactory(
        storeroom=StoreroomFactory(site=site),
        part=PartFactory(sku="BRG-6205"),
        on_hand=Decimal("1"),
    )
    short = client.post(
        page(work, "parts"), {"stock": stock.pk, "quantity": "2"}, HTTP_IDEMPOTENCY_KEY="part-1"
    )
    assert short.status_code == 409
    assert any("BRG-6205" in text and "available" in text for text in error_summary(short))

    wo_services.work_order_assign(
        work_order=work, assignee=TechnicianFactory(username="otto", sites=[site])
    )
    note = client.post(page(work, "notes"), {"message": "Seal worn"}, HTTP_IDEMPOTENCY_KEY="n-9")
    assert note.status_code == 403
    assert any("assigned to someone else" in text for text in error_summary(note))
    again = client.post(page(work, "notes"), {"message": "Seal worn"}, HTTP_IDEMPOTENCY_KEY="n-9")
    assert again.status_code == 403 and again["Idempotent-Replayed"] == "true"
    stock.refresh_from_db()
    assert stock.on_hand == Decimal("1")
    assert not work.events.filter(kind=EventKind.NOTE).exists()
