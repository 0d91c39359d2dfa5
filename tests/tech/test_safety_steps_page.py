"""The technician's work order page with safety steps: listed first with the asset's isolation
points, confirmed there (with the photo a step asks for), and Start disabled with the reason
until every one is confirmed (the server refuses it too)."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from assets.choices import EnergyType
from assets.models import IsolationPoint
from sync.models import IdempotencyKey
from tests.factories import TechnicianFactory, image_bytes, move_to, scheduled_work
from workorders import policy
from workorders import services as wo_services
from workorders.choices import EventKind, Status, StepKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def work(site, technician, pump):
    IsolationPoint.objects.create(
        asset=pump,
        position=1,
        code="E-4",
        energy_type=EnergyType.ELECTRICAL,
        location="MCC room",
        method="Breaker 4 open, lock and tag",
    )
    IsolationPoint.objects.create(
        asset=pump, position=2, code="H-1", energy_type=EnergyType.HYDRAULIC, method="Valve V-7"
    )
    return scheduled_work(
        site,
        assignee=technician,
        asset=pump,
        steps=[
            "Replace the seal",
            {"text": "Lock out the pump", "kind": StepKind.LOCKOUT},
            {"text": "Permit signed", "kind": StepKind.PERMIT, "photo_required": True},
        ],
    )


def url(work, action=""):
    return f"/tech/work-orders/{work.pk}/{action + '/' if action else ''}"


def confirm_url(work, step):
    return f"/tech/work-orders/{work.pk}/steps/{step.pk}/confirm/"


def steps(work):
    return {step.text: step for step in work.steps.all()}


def photo():
    return SimpleUploadedFile("permit.png", image_bytes("PNG"), content_type="image/png")


def test_safety_steps_come_first_with_the_isolation_points_and_start_is_disabled(
    client_for, technician, work
):
    html = client_for(technician).get(url(work)).content.decode()
    assert html.index('id="safety"') < html.index('id="actions"') < html.index('id="checklist"')
    assert "Safety — before you start" in html
    assert 'aria-labelledby="safety-title"' in html
    assert html.index("E-4") < html.index("H-1")
    assert "Breaker 4 open, lock and tag" in html and "Hydraulic" in html
    safety = html[html.index('id="safety"') : html.index('id="actions"')]
    assert "Lock out the pump" in safety and "Replace the seal" not in safety
    assert "(photo required)" in safety
    # Start is shown disabled with the reason, and no form posts to it.
    button = re.search(r'<button type="button"[^>]*disabled[^>]*>Start</button>', html)
    assert button and 'aria-describedby="start-refusal"' in button.group(0)
    assert "Confirm the safety steps before starting" in html
    # The start form is there only hidden, for the offline queue to show once every safety
    # step is confirmed on the device (the server checks the confirmations again).
    forms = re.findall(rf'<form[^>]*action="{url(work, "start")}"[^>]*>', html)
    assert len(forms) == 1 and " hidden data-after-safety" in forms[0]
    assert 'data-queue="safety"' in safety


def test_starting_with_unconfirmed_safety_steps_is_refused_with_the_reason(
    client_for, technician, work
):
    response = client_for(technician).post(url(work, "start"))
    assert response.status_code == 409
    assert "Lock out the pump" in response.content.decode()
    work.refresh_from_db()
    assert work.status == Status.SCHEDULED


def test_confirming_every_safety_step_enables_start(client_for, technician, work, media):
    client = client_for(technician)
    by_text = steps(work)
    response = client.post(confirm_url(work, by_text["Lock out the pump"]), {"result": "lock 17"})
    assert response.status_code == 302

    refused = client.post(confirm_url(work, by_text["Permit signed"]), {"result": ""})
    assert refused.status_code == 400
    assert "take one to confirm it" in refused.content.decode()

    response = client.post(
        confirm_url(work, by_text["Permit signed"]), {"result": "P-2231", "photo": photo()}
    )
    assert response.status_code == 302
    permit = work.steps.get(text="Permit signed")
    assert permit.done and permit.done_by == technician and permit.photos.count() == 1
    assert work.events.filter(kind=EventKind.SAFETY).count() == 2

    html = client.get(url(work)).content.decode()
    assert "Confirmed by tina" in html
    assert 'id="start-refusal"' not in html
    assert f'action="{url(work, "start")}"' in html
    assert client.post(url(work, "start")).status_code == 302
    work.refresh_from_db()
    assert work.status == Status.IN_PROGRESS
    # Once the work runs, a confirmation has no undo on the page and is refused if posted.
    html = client.get(url(work)).content.decode()
    assert "Undo confirmation" not in html
    lockout = by_text["Lock out the pump"]
    response = client.post(f"/tech/work-orders/{work.pk}/steps/{lockout.pk}/", {"done": "false"})
    assert response.status_code == 409
    lockout.refresh_from_db()
    assert lockout.done


def test_a_technician_of_another_site_cannot_confirm(client_for, work, other_site):
    stranger = TechnicianFactory(username="sam", sites=[other_site])
    lockout = steps(work)["Lock out the pump"]
    assert client_for(stranger).post(confirm_url(work, lockout)).status_code == 404
    lockout.refresh_from_db()
    assert not lockout.done


def test_a_customer_viewer_sees_the_safety_steps_but_no_confirm_form(client_for, viewer, work):
    response = client_for(viewer).get(url(work))
    html = response.content.decode()
    assert "Lock out the pump" in html
    assert "/confirm/" not in html
    assert "data-after-safety" not in html and f'action="{url(work, "start")}"' not in html
    lockout = steps(work)["Lock out the pump"]
    assert client_for(viewer).post(confirm_url(work, lockout)).status_code == 403


def test_a_photo_that_is_no_image_is_refused_on_the_photo_field(
    client_for, technician, work, media
):
    permit = steps(work)["Permit signed"]
    fake = SimpleUploadedFile("permit.png", b"not an image", content_type="image/png")
    response = client_for(technician).post(confirm_url(work, permit), {"photo": fake})
    assert response.status_code == 400
    html = response.content.decode()
    assert f'aria-describedby="step{permit.pk}-photo-error"' in html
    permit.refresh_from_db()
    assert not permit.done and work.photos.count() == 0


def test_a_keyed_confirmation_with_a_photo_applies_once(client_for, technician, work, media):
    """The offline queue replays a confirmation with its photo under an Idempotency-Key: the
    photo's file is written inside the key's transaction, and a replay stores nothing again."""
    client = client_for(technician)
    permit = steps(work)["Permit signed"]
    body = {"result": "P-2231", "photo": photo()}
    first = client.post(confirm_url(work, permit), body, HTTP_IDEMPOTENCY_KEY="permit-1")
    body = {"result": "P-2231", "photo": photo()}
    again = client.post(confirm_url(work, permit), body, HTTP_IDEMPOTENCY_KEY="permit-1")
    assert first.status_code == again.status_code == 302
    assert again["Idempotent-Replayed"] == "true"
    permit.refresh_from_db()
    assert permit.done and permit.photos.count() == 1
    assert work.events.filter(kind=EventKind.SAFETY).count() == 1
    assert len([f for f in media.rglob("*") if f.is_file()]) == 1


def test_the_page_holds_the_work_after_the_safety_steps_for_the_offline_queue(
    client_for, technician, work
):
    """Offline, the technician confirms the safety steps, starts, ticks and completes before
    any of it reaches the server: the page holds those forms hidden until then, the sign-off
    pads included, and the policy still gates each one when the queue sends it."""
    work.technician_signature_required = True
    work.save(update_fields=["technician_signature_required"])
    html = client_for(technician).get(url(work)).content.decode()
    seal = steps(work)["Replace the seal"]
    step_form = re.search(rf'<form[^>]*action="{url(work, f"steps/{seal.pk}")}"[^>]*>', html)
    assert step_form and "hidden data-after-start" in step_form.group(0)
    assert re.search(r'<details class="action"[^>]* hidden data-after-start>', html)
    complete = re.search(
        r'<details class="action"[^>]* hidden data-after-start>.*?</details>', html, re.S
    )
    assert complete and 'data-signature-pad="technician"' in complete.group(0)
    assert html.count("data-signature-pad=") == 1  # only there, hidden until a start is queued
    # Sent before the confirmations reached the server, the start is refused with the reason.
    response = client_for(technician).post(url(work, "start"), HTTP_IDEMPOTENCY_KEY="start-1")
    assert response.status_code == 409
    assert "Confirm the safety steps" in response.content.decode()


def test_another_technicians_work_holds_no_start_behind_its_safety_steps(client_for, site, work):
    other = TechnicianFactory(username="otto", sites=[site])
    html = client_for(other).get(url(work)).content.decode()
    assert "data-after-safety" not in html and "data-after-start" not in html


def test_completed_work_holds_no_start_behind_its_safety_steps(
    client_for, site, technician, planner, pump, codes
):
    """A planner may reopen completed work, and its safety steps need confirming again, but
    that is no field start: the page holds no Start, Complete or signature pads for it."""
    work = scheduled_work(
        site,
        assignee=technician,
        asset=pump,
        steps=[{"text": "Lock out the pump", "kind": StepKind.LOCKOUT}],
    )
    wo_services.checklist_step_record(step=work.steps.get(), by=technician)
    move_to(work, Status.COMPLETED, by=planner)
    assert policy.start_refusal(planner, work)  # the confirmation was for the finished job
    work.technician_signature_required = True
    work.save(update_fields=["technician_signature_required"])
    html = client_for(planner).get(url(work)).content.decode()
    assert "data-after-safety" not in html and "data-after-start" not in html
    assert "data-signature-pad" not in html


def test_an_action_queued_for_another_user_is_refused_and_not_recorded(
    client_for, technician, planner, work
):
    """A tab left from Tina's session sends her queue after Paula logged in on the phone: the
    server answers 409 without running the action or storing the key."""
    lockout = steps(work)["Lock out the pump"]
    response = client_for(planner).post(
        confirm_url(work, lockout),
        {"result": "lock 17"},
        HTTP_IDEMPOTENCY_KEY="tina-1",
        HTTP_X_CMMS_QUEUED_FOR=str(technician.pk),
    )
    assert response.status_code == 409
    assert response.json()["code"] == "queued_for_another_user"
    lockout.refresh_from_db()
    assert not lockout.done
    assert not IdempotencyKey.objects.exists()

    mine = client_for(technician).post(
        confirm_url(work, lockout),
        {"result": "lock 17"},
        HTTP_IDEMPOTENCY_KEY="tina-1",
        HTTP_X_CMMS_QUEUED_FOR=str(technician.pk),
    )
    assert mine.status_code == 302
    lockout.refresh_from_db()
    assert lockout.done and lockout.done_by == technician


def test_undoing_a_confirmation_is_not_queued_offline(client_for, technician, work):
    lockout = steps(work)["Lock out the pump"]
    client = client_for(technician)
    client.post(confirm_url(work, lockout), {"result": "lock 17"})
    html = client.get(url(work)).content.decode()
    undo = re.search(r"<form[^>]*>(?:(?!</form>).)*Undo confirmation", html, re.S)
    assert undo and "data-online-only" in undo.group(0) and "data-queue" not in undo.group(0)
