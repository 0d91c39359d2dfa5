"""The dispatch board: a week per technician per day, with load; moves go through services."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from planner.services import work_order_dispatch
from tests.factories import TechnicianFactory, WorkOrderFactory, move_to
from tests.world import Plant
from workorders.choices import Status

# Depends on the site's day: runs at midday and just before midnight (tests.clock).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site_clock")]

URL = reverse("admin:planner-dispatch")


def monday(plant):
    today = timezone.localdate(timezone=ZoneInfo(plant.site.timezone))
    return today - timedelta(days=today.weekday())


def at(plant, day, hour=8):
    return datetime.combine(day, datetime.min.time(), tzinfo=ZoneInfo(plant.site.timezone)).replace(
        hour=hour
    )


def scheduled(plant, technician, start, hours):
    wo = WorkOrderFactory(site=plant.site, estimated_hours=Decimal(hours))
    move_to(wo, Status.APPROVED)
    return work_order_dispatch(
        work_order=wo, assignee=technician, scheduled_start=start, by=plant.planner
    )


def board(client, plant, **params):
    response = client.get(URL, {"site": plant.site.pk, **params})
    assert response.status_code == 200
    return response


def test_the_board_shows_each_technicians_day_with_hours_against_availability(planner, plant):
    day = monday(plant)
    tech = plant.technician
    first = scheduled(plant, tech, at(plant, day, 7), "6")
    second = scheduled(plant, tech, at(plant, day, 13), "4")
    scheduled(plant, tech, at(plant, day + timedelta(days=2)), "2")
    response = board(planner, plant, week=day.isoformat())
    row = next(r for r in response.context["rows"] if r["technician"] == tech)
    monday_cell = row["cells"][0]
    assert [wo.pk for wo in monday_cell["orders"]] == [first.pk, second.pk]
    assert (monday_cell["hours"], monday_cell["capacity"]) == (Decimal("10"), Decimal("8"))
    assert (monday_cell["load"], monday_cell["level"]) == (125, "over")
    assert row["cells"][2]["load"] == 25
    assert (row["hours"], row["capacity"]) == (Decimal("12"), Decimal("40"))
    assert row["load"] == 30
    assert row["cells"][5]["capacity"] == 0  # Saturday


def test_work_of_another_week_is_not_on_the_board(planner, plant):
    day = monday(plant)
    later = scheduled(plant, plant.technician, at(plant, day + timedelta(days=7)), "3")
    response = board(planner, plant, week=day.isoformat())
    # The technician's only work is next week's: no hours this week, so no row at all.
    assert response.context["rows"] == []
    assert f'id="card-{later.pk}"' not in response.content.decode()
    row = board(planner, plant, week=day.isoformat(), tech=plant.technician.pk).context["rows"][0]
    assert sum(c["hours"] for c in row["cells"]) == 0


def test_approved_work_without_a_technician_waits_to_be_dispatched(planner, plant):
    wo = move_to(WorkOrderFactory(site=plant.site), Status.APPROVED)
    response = board(planner, plant)
    assert wo in response.context["to_dispatch"]


def test_dispatching_assigns_sets_the_start_and_schedules_approved_work(planner, plant):
    wo = move_to(WorkOrderFactory(site=plant.site), Status.APPROVED)
    day = monday(plant) + timedelta(days=1)
    response = planner.post(
        f"{URL}?site={plant.site.pk}",
        {"work_order": wo.pk, "assignee": plant.technician.pk, "day": day, "time": "09:30"},
        follow=True,
    )
    wo.refresh_from_db()
    assert wo.status == Status.SCHEDULED
    assert wo.assignee == plant.technician
    assert wo.scheduled_start == at(plant, day, 9).replace(minute=30)
    assert wo.history.last().changed_by == plant.planner
    assert any("dispatched to" in str(m) for m in get_messages(response.wsgi_request))


def test_reassigning_to_another_technician_moves_the_card(planner, plant):
    other = TechnicianFactory(sites=[plant.site])
    day = monday(plant)
    wo = scheduled(plant, plant.technician, at(plant, day), "2")
    planner.post(
        f"{URL}?site={plant.site.pk}",
        {
            "work_order": wo.pk,
            "assignee": other.pk,
            "day": day + timedelta(days=3),
            "time": "07:00",
        },
    )
    wo.refresh_from_db()
    assert wo.assignee == other
    assert wo.status == Status.SCHEDULED
    response = board(planner, plant, week=day.isoformat())
    row = next(r for r in response.context["rows"] if r["technician"] == other)
    assert [w.pk for w in row["cells"][3]["orders"]] == [wo.pk]


def test_dispatching_requested_work_is_refused_and_changes_nothing(planner, plant):
    wo = WorkOrderFactory(site=plant.site)
    response = planner.post(
        f"{URL}?site={plant.site.pk}",
        {
            "work_order": wo.pk,
            "assignee": plant.technician.pk,
            "day": monday(plant),
            "time": "07:00",
        },
        follow=True,
    )
    wo.refresh_from_db()
    assert (wo.status, wo.assignee, wo.scheduled_start) == (Status.REQUESTED, None, None)
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert message.startswith(f"Refused {wo.number}") and "approve it before" in message


def test_a_technician_of_another_site_is_not_offered_nor_accepted(planner, plant):
    outsider = TechnicianFactory()
    wo = move_to(WorkOrderFactory(site=plant.site), Status.APPROVED)
    response = planner.post(
        f"{URL}?site={plant.site.pk}",
        {"work_order": wo.pk, "assignee": outsider.pk, "day": monday(plant), "time": "07:00"},
        follow=True,
    )
    wo.refresh_from_db()
    assert wo.assignee is None
    assert "Not moved" in str(next(iter(get_messages(response.wsgi_request))))


def test_the_board_of_another_planners_site_falls_back_to_ones_own(planner, plant):
    other = Plant("far")
    response = planner.get(URL, {"site": other.site.pk})
    assert response.context["site"] == plant.site


def test_the_board_costs_a_bounded_number_of_queries(planner, plant, django_assert_max_num_queries):
    day = monday(plant)
    for i in range(20):
        tech = TechnicianFactory(sites=[plant.site])
        scheduled(plant, tech, at(plant, day + timedelta(days=i % 5)), "2")
    with django_assert_max_num_queries(14):
        board(planner, plant, week=day.isoformat())


def test_a_site_with_sixty_technicians_shows_only_the_three_with_work(planner, plant):
    day = monday(plant)
    idle = [TechnicianFactory(sites=[plant.site], first_name=f"Idle{i:02d}") for i in range(57)]
    busy = [TechnicianFactory(sites=[plant.site], first_name=f"Busy{i}") for i in range(3)]
    cards = [scheduled(plant, tech, at(plant, day + timedelta(days=i)), "2") for i, tech in
             enumerate(busy)]  # fmt: skip
    response = board(planner, plant, week=day.isoformat())
    shown = {row["technician"] for row in response.context["rows"]} - {plant.technician}
    assert shown == set(busy)
    page = response.content.decode()
    for card in cards:
        assert f'id="card-{card.pk}"' in page
    # An idle technician is named once, in the chooser, not in every card's list.
    assert page.count(idle[0].get_full_name()) == 1
    assert f'<option value="{idle[0].pk}">' in page.split('id="add-technician"')[1]


def test_the_board_does_not_grow_with_the_roster(planner, plant):
    day = monday(plant)
    for _ in range(3):
        scheduled(plant, TechnicianFactory(sites=[plant.site]), at(plant, day), "2")
    for _ in range(3):
        move_to(WorkOrderFactory(site=plant.site), Status.APPROVED)  # waiting cards
    before = len(board(planner, plant, week=day.isoformat()).content)
    for _ in range(60):
        TechnicianFactory(sites=[plant.site], first_name="Idle", last_name="Person")
    after = len(board(planner, plant, week=day.isoformat()).content)
    # Sixty more technicians add sixty options to the one chooser, nothing per card or day.
    assert after - before < 60 * 80


def test_the_chooser_puts_a_technician_without_work_on_the_board_to_give_them_work(planner, plant):
    day = monday(plant)
    idle = TechnicianFactory(sites=[plant.site])
    waiting = move_to(WorkOrderFactory(site=plant.site), Status.APPROVED)
    response = board(planner, plant, week=day.isoformat())
    assert idle not in {row["technician"] for row in response.context["rows"]}
    response = board(planner, plant, week=day.isoformat(), tech=idle.pk)
    row = next(r for r in response.context["rows"] if r["technician"] == idle)
    assert row["hours"] == 0
    card = response.content.decode().split(f'id="card-{waiting.pk}"')[1]
    assert f'<option value="{idle.pk}"' in card.split("</select>")[0]


def test_the_chooser_ignores_a_technician_of_another_site_and_bad_ids(planner, plant):
    outsider = TechnicianFactory()
    response = board(planner, plant, tech=[outsider.pk, "x", "9" * 30, "-1"])
    assert outsider not in {row["technician"] for row in response.context["rows"]}
    assert response.context["added"] == []


def test_a_crowded_day_draws_eight_cards_and_counts_all_its_hours(planner, plant):
    day = monday(plant)
    tech = TechnicianFactory(sites=[plant.site])
    work = [scheduled(plant, tech, at(plant, day, 6 + i), "1") for i in range(11)]
    response = board(planner, plant, week=day.isoformat())
    cell = next(r for r in response.context["rows"] if r["technician"] == tech)["cells"][0]
    assert [wo.pk for wo in cell["orders"]] == [wo.pk for wo in work[:8]]
    assert (cell["more"], cell["hours"]) == (3, Decimal("11"))
    page = response.content.decode()
    assert f'id="card-{work[8].pk}"' not in page
    assert "and 3 more work orders this day" in page
