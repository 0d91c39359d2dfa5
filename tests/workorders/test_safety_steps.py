"""Safety steps (lockout/tagout, permit to work): copied from the job plan, confirmed by the
technician before the work starts, and the start refused until every one is (docs/safety.md)."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from assets.models import IsolationPoint
from cmms.errors import ConflictError
from tech.services import work_order_photo_add
from tests.factories import (
    AssetFactory,
    JobPlanFactory,
    PlannerFactory,
    TechnicianFactory,
    image_bytes,
    move_to,
    scheduled_work,
)
from tests.forms import form_data
from workorders import bulk
from workorders.choices import EventKind, Status, StepKind, WorkOrderType
from workorders.services import (
    checklist_step_record,
    job_plan_steps,
    work_order_create,
    work_order_transition,
)

pytestmark = pytest.mark.django_db

LOCKOUT = {"text": "Lock out breaker 4", "kind": StepKind.LOCKOUT}
PERMIT = {"text": "Hot work permit signed", "kind": StepKind.PERMIT, "photo_required": True}


@pytest.fixture
def work(site, technician, pump):
    return scheduled_work(
        site, assignee=technician, asset=pump, steps=[LOCKOUT, PERMIT, "Replace the seal"]
    )


@pytest.fixture
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def photo():
    return SimpleUploadedFile("lock.png", image_bytes("PNG"), content_type="image/png")


def safety(work):
    return list(work.steps.filter(kind__in=[StepKind.LOCKOUT, StepKind.PERMIT]))


def confirm_all(work, by):
    lockout, permit = safety(work)
    checklist_step_record(step=lockout, by=by)
    work_order_photo_add(work_order=work, by=by, upload=photo(), step=permit)


def test_a_work_order_from_a_job_plan_copies_its_safety_steps_and_photo_rule(site, pump):
    plan = JobPlanFactory(steps=[LOCKOUT, PERMIT, "Grease"])
    work = work_order_create(site=site, title="Grease", asset=pump, steps=job_plan_steps(plan))
    copied = [(s.text, s.kind, s.photo_required) for s in work.steps.all()]
    assert copied == [
        ("Lock out breaker 4", "lockout", False),
        ("Hot work permit signed", "permit", True),
        ("Grease", "task", False),
    ]
    # PM generation makes its work orders in bulk from the same step dicts.
    assert bulk._job_plan_steps({plan.pk})[plan.pk] == job_plan_steps(plan)


def test_only_a_safety_step_asks_for_a_photo():
    with pytest.raises(ValidationError) as refused:
        JobPlanFactory(steps=[{"text": "Grease", "photo_required": True}])
    assert "steps" in refused.value.message_dict


def test_a_safety_step_is_confirmed_not_measured():
    """Its confirm form has no value: a measured safety step could never be confirmed."""
    with pytest.raises(ValidationError) as refused:
        JobPlanFactory(
            steps=[{"text": "Prove dead", "kind": StepKind.LOCKOUT, "requires_value": True}]
        )
    assert "requires_value" in str(refused.value.message_dict["steps"])


def test_the_work_does_not_start_until_every_safety_step_is_confirmed(work, technician, media):
    with pytest.raises(ConflictError) as refused:
        work_order_transition(work_order=work, to=Status.IN_PROGRESS, by=technician)
    assert refused.value.code == "safety_steps_unconfirmed"
    assert "1. Lock out breaker 4" in refused.value.message
    assert "2. Hot work permit signed" in refused.value.message
    work.refresh_from_db()
    assert work.status == Status.SCHEDULED

    lockout, _permit = safety(work)
    checklist_step_record(step=lockout, by=technician)
    with pytest.raises(ConflictError) as still:
        work_order_transition(work_order=work, to=Status.IN_PROGRESS, by=technician)
    assert "Lock out" not in still.value.message
    assert "2. Hot work permit signed" in still.value.message

    confirm_all(work, technician)
    work_order_transition(work_order=work, to=Status.IN_PROGRESS, by=technician)
    assert work.status == Status.IN_PROGRESS


def test_the_planner_cannot_start_it_either(work, planner):
    with pytest.raises(ConflictError):
        work_order_transition(work_order=work, to=Status.IN_PROGRESS, by=planner)


def test_a_confirmation_records_who_and_when_on_the_step_and_the_timeline(work, technician):
    lockout, _permit = safety(work)
    checklist_step_record(step=lockout, by=technician, result="lock 17")
    lockout.refresh_from_db()
    assert (lockout.done, lockout.done_by, lockout.result) == (True, technician, "lock 17")
    assert lockout.done_at is not None
    event = work.events.get(kind=EventKind.SAFETY)
    assert event.created_by == technician
    assert event.data["step"] == lockout.pk
    assert event.message == "Safety step 1 confirmed: Lock out breaker 4"


def test_a_photo_required_step_is_not_confirmed_without_a_photo(work, technician, media):
    _lockout, permit = safety(work)
    with pytest.raises(ValidationError) as refused:
        checklist_step_record(step=permit, by=technician)
    assert "photo" in refused.value.message_dict
    permit.refresh_from_db()
    assert not permit.done

    taken = work_order_photo_add(work_order=work, by=technician, upload=photo(), step=permit)
    permit.refresh_from_db()
    assert permit.done and permit.done_by == technician
    assert taken.step == permit
    assert work.events.get(kind=EventKind.SAFETY).data["photo"] is True


def test_a_refused_photo_confirmation_keeps_no_photo(work, colleague, media):
    _lockout, permit = safety(work)
    with pytest.raises(Exception):  # noqa: B017 (assigned to someone else: NotPermitted)
        work_order_photo_add(work_order=work, by=colleague, upload=photo(), step=permit)
    assert work.photos.count() == 0
    assert [p for p in media.rglob("*") if p.is_file()] == []


def test_a_safety_step_may_be_unticked_before_the_start_but_not_once_the_work_runs(
    work, technician, media
):
    lockout, _permit = safety(work)
    checklist_step_record(step=lockout, by=technician)
    checklist_step_record(step=lockout, by=technician, done=False)
    lockout.refresh_from_db()
    assert not lockout.done
    assert work.events.filter(kind=EventKind.SAFETY).count() == 2

    confirm_all(work, technician)
    work_order_transition(work_order=work, to=Status.IN_PROGRESS, by=technician)
    with pytest.raises(ConflictError) as refused:
        checklist_step_record(step=lockout, by=technician, done=False)
    assert refused.value.code == "safety_step_confirmed"
    work_order_transition(work_order=work, to=Status.ON_HOLD, by=technician, reason="shift")
    with pytest.raises(ConflictError):
        checklist_step_record(step=lockout, by=technician, done=False)
    lockout.refresh_from_db()
    assert lockout.done


def test_safety_steps_are_not_confirmed_on_work_not_yet_scheduled(site, technician, pump):
    work = work_order_create(site=site, title="Seal", asset=pump, steps=[LOCKOUT])
    move_to(work, Status.APPROVED)
    with pytest.raises(ConflictError):
        checklist_step_record(step=work.steps.get(), by=technician)


def test_task_steps_still_wait_for_the_start(work, technician):
    task = work.steps.get(kind=StepKind.TASK)
    with pytest.raises(ConflictError):
        checklist_step_record(step=task, by=technician)


# ---------------------------------------------------------------- API


def step_url(work, step):
    return f"/api/v1/work-orders/{work.pk}/steps/{step.pk}/"


def test_the_api_refuses_the_start_with_409_naming_the_steps(api, work, technician):
    api.force_authenticate(technician)
    response = api.post(f"/api/v1/work-orders/{work.pk}/transition/", {"to": "in_progress"})
    assert response.status_code == 409
    assert response.data["code"] == "safety_steps_unconfirmed"
    assert "Lock out breaker 4" in response.data["detail"]


def test_the_api_confirms_a_safety_step_and_shows_who_confirmed_it(api, work, technician):
    api.force_authenticate(technician)
    lockout, permit = safety(work)
    response = api.post(step_url(work, lockout), {"done": True}, format="json")
    assert response.status_code == 200
    assert response.data["kind"] == "lockout"
    assert response.data["done_by"] == technician.pk
    assert response.data["done_at"] is not None

    refused = api.post(step_url(work, permit), {"done": True}, format="json")
    assert refused.status_code == 400
    assert "photo" in refused.data

    detail = api.get(f"/api/v1/work-orders/{work.pk}/").data
    rows = {s["text"]: s for s in detail["steps"]}
    assert rows["Hot work permit signed"]["photo_required"] is True
    assert rows["Lock out breaker 4"]["done_by"] == technician.pk


def test_a_technician_of_another_site_cannot_confirm(api, work, other_site):
    stranger = TechnicianFactory(username="sam", sites=[other_site])
    api.force_authenticate(stranger)
    lockout, _permit = safety(work)
    response = api.post(step_url(work, lockout), {"done": True}, format="json")
    assert response.status_code == 404
    lockout.refresh_from_db()
    assert not lockout.done


def test_the_job_plan_api_writes_the_kind_and_photo_rule_of_steps(api, superuser):
    api.force_authenticate(superuser)
    body = {
        "code": "loto",
        "title": "Seal change under lockout",
        "work_type": "corrective",
        "steps": [
            {"text": "Lock out", "kind": "lockout", "photo_required": True},
            {"text": "Change the seal"},
        ],
    }
    response = api.post("/api/v1/job-plans/", body, format="json")
    assert response.status_code == 201, response.data
    assert [(s["kind"], s["photo_required"]) for s in response.data["steps"]] == [
        ("lockout", True),
        ("task", False),
    ]
    body["code"] = "bad"
    body["steps"] = [{"text": "Grease", "photo_required": True}]
    assert api.post("/api/v1/job-plans/", body, format="json").status_code == 400


def test_isolation_points_are_read_through_the_asset_and_scoped(api, pump, technician, other_site):
    IsolationPoint.objects.create(asset=pump, code="E-4", method="Breaker 4 open, lock and tag")
    api.force_authenticate(technician)
    response = api.get(f"/api/v1/assets/{pump.pk}/isolation-points/")
    assert response.status_code == 200
    assert [(p["code"], p["energy_type"]) for p in response.data] == [("E-4", "electrical")]
    foreign = AssetFactory(site=other_site)
    assert api.get(f"/api/v1/assets/{foreign.pk}/isolation-points/").status_code == 404


# ---------------------------------------------------------------- the planner's admin


def test_the_work_order_admin_shows_who_confirmed_each_safety_step(
    logged_in, work, technician, planner, media
):
    confirm_all(work, technician)
    client = logged_in(planner)
    response = client.get(reverse("admin:workorders_workorder_change", args=[work.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("Confirmed by tina") == 2
    photo_id = work.photos.get().pk
    assert reverse("tech:photo-file", args=[photo_id]) in page


def test_planners_write_an_assets_isolation_points_in_its_admin_page(logged_in, planner, pump):
    client = logged_in(planner)
    url = reverse("admin:assets_asset_change", args=[pump.pk])
    data = form_data(client.get(url), "asset_form")
    data.update(
        {
            "isolation_points-TOTAL_FORMS": "1",
            "isolation_points-0-position": "1",
            "isolation_points-0-code": "E-4",
            "isolation_points-0-energy_type": "electrical",
            "isolation_points-0-location": "MCC room",
            "isolation_points-0-method": "Breaker 4 open, lock and tag",
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    point = pump.isolation_points.get()
    assert (point.code, point.method) == ("E-4", "Breaker 4 open, lock and tag")


def test_confirming_a_confirmed_step_again_keeps_who_confirmed_it(work, technician, planner):
    lockout, _permit = safety(work)
    checklist_step_record(step=lockout, by=technician)
    first = work.steps.get(pk=lockout.pk)
    checklist_step_record(step=lockout, by=planner)
    again = work.steps.get(pk=lockout.pk)
    assert (again.done_by, again.done_at) == (technician, first.done_at)
    assert work.events.filter(kind=EventKind.SAFETY).count() == 1


def test_reopening_completed_work_needs_its_safety_steps_confirmed_again(
    site, technician, pump, media
):
    """The isolation confirmed before the completion was for the finished job: reopening is
    refused until each step is confirmed after the completion; the first confirmation stays
    on the timeline and a confirmation of this round is kept, not replaced."""
    work = scheduled_work(
        site,
        assignee=technician,
        asset=pump,
        type=WorkOrderType.PREVENTIVE,
        steps=[LOCKOUT, PERMIT],
    )
    confirm_all(work, technician)
    work_order_transition(work_order=work, to=Status.IN_PROGRESS, by=technician)
    work_order_transition(work_order=work, to=Status.COMPLETED, by=technician)
    planner = PlannerFactory(sites=[site])

    with pytest.raises(ConflictError) as refused:
        work_order_transition(work_order=work, to=Status.IN_PROGRESS, by=planner, reason="leak")
    assert refused.value.code == "safety_steps_unconfirmed"
    assert "Lock out breaker 4" in refused.value.message

    lockout, permit = safety(work)
    again = planner  # the planner (field work of the site) confirms this round
    checklist_step_record(step=lockout, by=again)
    lockout.refresh_from_db()
    assert lockout.done_by == again
    checklist_step_record(step=lockout, by=technician)  # this round's confirmation stands
    lockout.refresh_from_db()
    assert lockout.done_by == again
    with pytest.raises(ValidationError):  # the permit still asks for its photo
        checklist_step_record(step=permit, by=again)
    work_order_photo_add(work_order=work, by=again, upload=photo(), step=permit)

    work_order_transition(work_order=work, to=Status.IN_PROGRESS, by=planner, reason="leak")
    work.refresh_from_db()
    assert work.status == Status.IN_PROGRESS
    messages = list(
        work.events.filter(kind=EventKind.SAFETY).order_by("pk").values_list("message", flat=True)
    )
    assert messages == [
        "Safety step 1 confirmed: Lock out breaker 4",
        "Safety step 2 confirmed: Hot work permit signed",
        "Safety step 1 confirmed again: Lock out breaker 4",
        "Safety step 2 confirmed again: Hot work permit signed",
    ]
