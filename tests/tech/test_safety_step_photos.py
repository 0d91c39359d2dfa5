"""A photo added to a safety step that is already confirmed (a second angle of the lock, the
permit's other page) keeps the confirmation and goes on the timeline once; the confirmation
with its first photo has one event, not two."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tech.services import work_order_photo_add
from tests.factories import TechnicianFactory, image_bytes, scheduled_work
from workorders.choices import EventKind, Status, StepKind
from workorders.services import work_order_transition

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def work(site, technician, pump):
    return scheduled_work(
        site,
        assignee=technician,
        asset=pump,
        steps=[
            "Replace the seal",
            {"text": "Permit signed", "kind": StepKind.PERMIT, "photo_required": True},
        ],
    )


def photo():
    return SimpleUploadedFile("permit.png", image_bytes("PNG"), content_type="image/png")


def confirm_url(work, step):
    return f"/tech/work-orders/{work.pk}/steps/{step.pk}/confirm/"


def safety_messages(work):
    return list(
        work.events.filter(kind=EventKind.SAFETY).order_by("pk").values_list("message", flat=True)
    )


def test_the_confirmation_with_its_photo_is_one_event(client_for, technician, work):
    permit = work.steps.get(kind=StepKind.PERMIT)

    response = client_for(technician).post(
        confirm_url(work, permit), {"result": "P-2231", "photo": photo()}
    )

    assert response.status_code == 302
    assert safety_messages(work) == ["Safety step 2 confirmed: Permit signed"]


def test_a_photo_added_to_a_confirmed_step_is_on_the_timeline_once(client_for, technician, work):
    permit = work.steps.get(kind=StepKind.PERMIT)
    client = client_for(technician)
    client.post(confirm_url(work, permit), {"result": "P-2231", "photo": photo()})
    permit.refresh_from_db()
    confirmed_at = permit.done_at

    response = client.post(confirm_url(work, permit), {"result": "page 2", "photo": photo()})

    assert response.status_code == 302
    assert safety_messages(work) == [
        "Safety step 2 confirmed: Permit signed",
        "Photo added to safety step 2: Permit signed",
    ]
    added = work.events.get(message__startswith="Photo added")
    second = permit.photos.order_by("pk").last()
    assert added.created_by == technician
    assert added.data == {"step": permit.pk, "kind": StepKind.PERMIT, "photo": second.pk}
    permit.refresh_from_db()
    assert permit.photos.count() == 2
    assert (permit.done_by, permit.done_at, permit.result) == (technician, confirmed_at, "P-2231")


def test_a_photo_added_once_the_work_runs_is_recorded_too(technician, work):
    permit = work.steps.get(kind=StepKind.PERMIT)
    work_order_photo_add(work_order=work, by=technician, upload=photo(), step=permit)
    work_order_transition(work_order=work, to=Status.IN_PROGRESS, by=technician)

    work_order_photo_add(
        work_order=work, by=technician, upload=photo(), caption="lock 17", step=permit
    )

    assert safety_messages(work) == [
        "Safety step 2 confirmed: Permit signed",
        "Photo added to safety step 2: Permit signed",
    ]
    assert work.photos.filter(step=permit).count() == 2


def test_another_sites_technician_adds_no_photo_and_no_event(client_for, work, other_site):
    permit = work.steps.get(kind=StepKind.PERMIT)
    stranger = TechnicianFactory(username="sam", sites=[other_site])

    response = client_for(stranger).post(confirm_url(work, permit), {"photo": photo()})

    assert response.status_code == 404
    assert safety_messages(work) == [] and work.photos.count() == 0
