"""A planner changes a work order's checklist in its admin page (step inline) through
`checklist_steps_edit`: the model's step rules hold, a change to what a step is (kind, photo
rule) and a safety step added or removed go on the timeline once, and work that has started
gets no new safety step (it would hold nothing back) nor loses a confirmed one."""

import pytest

from cmms.errors import ConflictError
from tests.factories import scheduled_work
from tests.forms import form_data
from workorders.choices import EventKind, Status, StepKind
from workorders.services import checklist_step_record, work_order_transition

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(logged_in, planner):
    return logged_in(planner)


@pytest.fixture
def work(site, technician, pump):
    return scheduled_work(
        site,
        assignee=technician,
        asset=pump,
        steps=["Replace the seal", {"text": "Lock out the pump", "kind": StepKind.LOCKOUT}],
    )


def url(work):
    return f"/admin/workorders/workorder/{work.pk}/change/"


def page_form(client, work) -> dict:
    return form_data(client.get(url(work)), "workorder_form")


def safety_events(work):
    return list(work.events.filter(kind=EventKind.SAFETY).order_by("pk"))


def post(client, work, **changes):
    data = page_form(client, work)
    data.update(changes)
    return client.post(url(work), data)


def refusal(response) -> str:
    assert response.status_code == 200
    return " ".join(str(e) for e in response.context["adminform"].form.non_field_errors())


def test_making_a_task_a_lockout_with_a_photo_is_on_the_timeline_once(
    client, planner, work, technician
):
    response = post(
        client, work, **{"steps-0-kind": StepKind.LOCKOUT, "steps-0-photo_required": "on"}
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    step = work.steps.get(position=1)
    assert (step.kind, step.photo_required) == (StepKind.LOCKOUT, True)
    [event] = safety_events(work)
    assert event.message == (
        "Step 1 changed (kind task → lockout/tagout, photo required no → yes): Replace the seal"
    )
    assert event.created_by == planner
    assert event.data == {
        "step": step.pk,
        "changes": {"kind": ["task", "lockout"], "photo_required": [False, True]},
    }
    # The new safety step holds the start back like any other.
    with pytest.raises(ConflictError, match="Confirm the safety steps") as refused:
        work_order_transition(work_order=work, to=Status.IN_PROGRESS, by=technician)
    assert refused.value.code == "safety_steps_unconfirmed"
    # Saved again unchanged: no second event.
    assert post(client, work).status_code == 302
    assert len(safety_events(work)) == 1


def test_adding_and_removing_safety_steps_on_scheduled_work_is_recorded(client, work):
    response = post(
        client,
        work,
        **{
            "steps-1-DELETE": "on",
            "steps-TOTAL_FORMS": "3",
            "steps-2-position": "3",
            "steps-2-text": "Hot work permit signed",
            "steps-2-kind": StepKind.PERMIT,
            "steps-2-photo_required": "on",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert [e.message for e in safety_events(work)] == [
        "Safety step 2 removed: Lock out the pump",
        "Safety step 3 added: Hot work permit signed (Permit to work, photo required)",
    ]
    assert list(work.steps.values_list("position", "kind")) == [
        (1, StepKind.TASK),
        (3, StepKind.PERMIT),
    ]


def test_a_task_step_text_change_is_saved_without_a_safety_event(client, work):
    response = post(client, work, **{"steps-0-text": "Replace the mechanical seal"})

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert work.steps.get(position=1).text == "Replace the mechanical seal"
    assert safety_events(work) == []


def test_a_safety_step_cannot_ask_for_a_value(client, work):
    response = post(client, work, **{"steps-1-requires_value": "on", "steps-1-unit": "bar"})

    assert response.status_code == 200
    assert "A safety step is confirmed, not measured" in response.content.decode()
    assert not work.steps.get(position=2).requires_value
    assert safety_events(work) == []


def test_a_task_cannot_ask_for_a_photo(client, work):
    response = post(client, work, **{"steps-0-photo_required": "on"})

    assert response.status_code == 200
    assert "Only a safety step (lockout/tagout, permit) asks for a photo." in (
        response.content.decode()
    )
    assert safety_events(work) == []


@pytest.fixture
def started(work, technician):
    lockout = work.steps.get(kind=StepKind.LOCKOUT)
    checklist_step_record(step=lockout, by=technician)
    work_order_transition(work_order=work, to=Status.IN_PROGRESS, by=technician)
    work.refresh_from_db()
    return work


def test_a_task_of_started_work_does_not_become_a_safety_step(client, started):
    before = started.events.count()

    response = post(client, started, **{"steps-0-kind": StepKind.LOCKOUT})

    assert f"{started.number} has started: a safety step added now" in refusal(response)
    assert started.steps.get(position=1).kind == StepKind.TASK
    assert started.events.count() == before


def test_started_work_gets_no_new_safety_step(client, started):
    response = post(
        client,
        started,
        **{
            "steps-TOTAL_FORMS": "3",
            "steps-2-position": "3",
            "steps-2-text": "Lock out the feed pump",
            "steps-2-kind": StepKind.LOCKOUT,
        },
    )

    assert "has started" in refusal(response)
    assert started.steps.count() == 2


def test_started_work_may_still_get_a_task_step(client, started):
    response = post(
        client,
        started,
        **{"steps-TOTAL_FORMS": "3", "steps-2-position": "3", "steps-2-text": "Test run"},
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert started.steps.filter(text="Test run", kind=StepKind.TASK).exists()


def test_a_confirmed_safety_step_of_started_work_stays(client, started):
    changed = post(client, started, **{"steps-1-kind": StepKind.TASK})
    removed = post(client, started, **{"steps-1-DELETE": "on"})

    assert "Step 2 is a confirmed safety step: it stays as it is until the work is done." in (
        refusal(changed)
    )
    assert "confirmed safety step" in refusal(removed)
    lockout = started.steps.get(position=2)
    assert lockout.kind == StepKind.LOCKOUT and lockout.done


def test_a_confirmed_safety_step_of_scheduled_work_is_unconfirmed_before_it_changes(
    client, work, technician
):
    lockout = work.steps.get(kind=StepKind.LOCKOUT)
    checklist_step_record(step=lockout, by=technician)

    response = post(client, work, **{"steps-1-photo_required": "on"})

    assert "undo its confirmation first" in refusal(response)
    lockout.refresh_from_db()
    assert not lockout.photo_required
