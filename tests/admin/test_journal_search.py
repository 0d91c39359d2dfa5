"""The journals' search boxes (status changes, timeline, timesheets) find a work order by the
start of its number and free text by every word, from indexes (issue 14 §2)."""

import pytest
from django.urls import reverse

from tests.plans import indexed_plans_of
from workorders import services as wo_services
from workorders.models import LabourEntry

pytestmark = pytest.mark.django_db

JOURNALS = {
    "status changes": reverse("admin:workorders_statuschange_changelist"),
    "timeline": reverse("admin:workorders_workorderevent_changelist"),
    "timesheets": reverse("admin:workorders_labourentry_changelist"),
}


def found(client, url, q) -> list:
    response = client.get(url, {"q": q})
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


@pytest.fixture
def journals(plant_a, plant_b):
    """The same labour note at both plants (their work orders have status changes and a
    timeline already)."""
    for plant in (plant_a, plant_b):
        wo_services.labour_add(
            work_order=plant.work_order,
            technician=plant.technician,
            hours=1,
            note="Realigned coupling on the gearbox",
            by=plant.planner,
        )
    return plant_a


def test_timesheets_are_found_by_number_and_by_every_word_of_the_note(client, journals, plant_b):
    client.force_login(journals.planner)
    url = JOURNALS["timesheets"]
    mine = LabourEntry.objects.get(work_order=journals.work_order, note__contains="coupling")
    assert found(client, url, "GEARBOX realigned") == [mine]  # not the other plant's
    assert found(client, url, "gearbox motor") == []  # every word must be there
    by_number = found(client, url, journals.work_order.number)
    assert mine in by_number
    assert {entry.work_order_id for entry in by_number} == {journals.work_order.pk}
    assert found(client, url, plant_b.work_order.number) == []


def test_status_changes_and_the_timeline_are_found_by_number(client, journals):
    client.force_login(journals.planner)
    for url in (JOURNALS["status changes"], JOURNALS["timeline"]):
        rows = found(client, url, journals.work_order.number)
        assert rows and {row.work_order_id for row in rows} == {journals.work_order.pk}


@pytest.mark.postgresql(reason="the plan of a trigram index")
@pytest.mark.parametrize(
    ("journal", "index"),
    [
        ("status changes", "status_change_reason_trgm"),
        ("timeline", "work_order_event_message_trgm"),
        ("timesheets", "labour_note_trgm"),
    ],
)
def test_the_journals_free_text_is_answered_from_trigram_indexes(
    client, superuser, journals, journal, index
):
    client.force_login(superuser)
    plans = indexed_plans_of(lambda: client.get(JOURNALS[journal], {"q": "coupling"}))
    assert [plan for plan in plans if index in plan], "\n\n".join(plans)
