from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from assets.models import MeterReading
from cmms.errors import ConflictError, NotPermitted
from pm.choices import RunStatus
from pm.models import RoundResult, RoundRun
from pm.selectors import route_compliance
from pm.services import round_result_record, round_run_complete, rounds_generate_due
from tests.concurrency import at_once
from tests.factories import (
    AssetFactory,
    MeterFactory,
    SiteFactory,
    TechnicianFactory,
    inspection_route,
    round_run,
)
from tests.scheduling import local
from workorders.choices import Source, Status
from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db

BERLIN = "Europe/Berlin"


@pytest.fixture
def pressure(pump):
    return MeterFactory(asset=pump, code="pressure", name="Pressure", unit="bar", cumulative=False)


@pytest.fixture
def walk(site, pump, pressure):
    """A route on the pump (a leak check, a pressure reading in [2, 6] bar feeding the meter)
    and a run of it due now."""
    route, check, reading = inspection_route(site, pump, meter=pressure)
    return round_run(route), check, reading


def record(run, check, by, **answer):
    return round_result_record(run=run, route_check=check, by=by, **answer)


def requests_of(run):
    return WorkOrder.objects.filter(round_result__run=run)


# --------------------------------------------------------------------------- scheduling


def daily_route(site, **fields):
    with time_machine.travel(local(BERLIN, 2025, 3, 1, 0), tick=False):
        route, _, _ = inspection_route(
            site, AssetFactory(site=site), starts_on=date(2025, 3, 1), **fields
        )
    return route


def test_runs_are_created_at_the_sites_local_due_time_within_the_lead():
    site = SiteFactory(timezone=BERLIN)
    route = daily_route(site, due_time="08:00", lead_hours=12)

    with time_machine.travel(local(BERLIN, 2025, 3, 1, 21), tick=False):
        result = rounds_generate_due()

    dues = list(route.runs.order_by("due_at").values_list("due_at", flat=True))
    assert dues == [local(BERLIN, 2025, 3, 1, 8), local(BERLIN, 2025, 3, 2, 8)]
    assert result.created == 2


def test_a_run_keeps_its_local_time_across_the_daylight_saving_change():
    site = SiteFactory(timezone=BERLIN)
    with time_machine.travel(local(BERLIN, 2025, 3, 28, 0), tick=False):
        route, _, _ = inspection_route(
            site, AssetFactory(site=site), starts_on=date(2025, 3, 29), lead_hours=0
        )

    with time_machine.travel(local(BERLIN, 2025, 3, 30, 9), tick=False):
        rounds_generate_due()

    dues = [
        d.astimezone(route.tz)
        for d in route.runs.order_by("due_at").values_list("due_at", flat=True)
    ]
    assert [(d.day, d.hour, d.utcoffset()) for d in dues] == [
        (29, 8, timedelta(hours=1)),
        (30, 8, timedelta(hours=2)),
    ]


def test_repeated_generation_creates_each_run_once():
    site = SiteFactory(timezone=BERLIN)
    route = daily_route(site)
    moment = local(BERLIN, 2025, 3, 3, 9)

    with time_machine.travel(moment, tick=False):
        first = rounds_generate_due()
        second = rounds_generate_due()

    assert first.created > 0
    assert second.created == 0
    assert route.runs.count() == first.created
    assert route.runs.values("due_at").distinct().count() == first.created


@pytest.mark.postgresql(reason="SQLite locks the whole database for writers")
@pytest.mark.django_db(transaction=True)
def test_concurrent_beat_runs_create_each_run_once():
    site = SiteFactory(timezone=BERLIN)
    routes = [daily_route(site, lead_hours=0) for _ in range(5)]
    now = local(BERLIN, 2025, 3, 4, 9)  # four daily runs each
    results = at_once(lambda: rounds_generate_due(now=now), 3)

    assert RoundRun.objects.count() == 20
    assert sum(r.created for r in results) == 20
    assert all(route.runs.count() == 4 for route in routes)


def test_a_run_nobody_started_within_the_grace_is_missed_but_a_started_one_is_not(technician):
    site = technician.sites.get()
    route = daily_route(site, due_time="08:00", grace_hours=4, lead_hours=0)
    with time_machine.travel(local(BERLIN, 2025, 3, 1, 9), tick=False):
        rounds_generate_due()
    started = route.runs.get()
    check = started.route.points.get().checks.first()
    record(started, check, technician, passed=True, now=local(BERLIN, 2025, 3, 1, 9))

    with time_machine.travel(local(BERLIN, 2025, 3, 2, 12, 1), tick=False):
        result = rounds_generate_due()

    statuses = dict(route.runs.values_list("due_at", "status"))
    assert statuses == {
        local(BERLIN, 2025, 3, 1, 8): RunStatus.IN_PROGRESS,
        local(BERLIN, 2025, 3, 2, 8): RunStatus.MISSED,  # 12:01 is past 08:00 + 4 h
    }
    assert result.missed == 1


def test_a_missed_run_refuses_results(walk, technician):
    run, check, _ = walk
    RoundRun.objects.filter(pk=run.pk).update(status=RunStatus.MISSED)

    with pytest.raises(ConflictError) as refused:
        record(run, check, technician, passed=True)
    assert refused.value.code == "round_closed"


def test_an_inactive_route_gets_no_runs():
    site = SiteFactory(timezone=BERLIN)
    route = daily_route(site, is_active=False)

    with time_machine.travel(local(BERLIN, 2025, 3, 5, 9), tick=False):
        rounds_generate_due()

    assert not route.runs.exists()


# --------------------------------------------------------------------------- limits


@pytest.mark.parametrize(
    ("value", "out"),
    [
        ("2", False),
        ("6", False),
        ("2.000", False),
        ("4.5", False),
        ("1.999", True),
        ("6.001", True),
    ],
)
def test_the_limits_themselves_are_good_values(walk, technician, value, out):
    run, _, reading = walk

    result = record(run, reading, technician, value=value)

    assert result.out_of_limits is out
    assert requests_of(run).count() == (1 if out else 0)


def test_a_reading_with_only_a_high_limit_has_no_floor(walk, technician):
    run, _, reading = walk
    reading.low = None
    reading.save()

    assert record(run, reading, technician, value="-40").out_of_limits is False


@pytest.mark.parametrize("value", ["", "abc", "NaN", "Infinity", "1e20"])
def test_a_reading_that_is_no_number_is_refused_without_a_trace(walk, technician, value):
    run, _, reading = walk

    with pytest.raises(ValidationError) as refused:
        record(run, reading, technician, value=value)

    assert "value" in refused.value.message_dict
    assert not RoundResult.objects.exists()


# --------------------------------------------------------------------------- work requests


def test_an_out_of_limits_reading_raises_one_work_request_with_the_evidence(walk, technician, pump):
    run, _, reading = walk

    result = record(run, reading, technician, value="7.5", note="Gauge shaking")

    request = result.work_order
    assert request.status == Status.REQUESTED
    assert request.source == Source.REQUEST
    assert request.asset == pump
    assert request.requested_by == technician
    for evidence in (
        run.route.code,
        "Discharge pressure",
        "7.500 bar",
        "2.000 to 6.000 bar",
        "tina",
        "Gauge shaking",
        "P-101",
    ):
        assert evidence in request.description


def test_resubmitting_the_same_result_raises_no_second_request(walk, technician):
    run, _, reading = walk

    first = record(run, reading, technician, value="7.5")
    again = record(run, reading, technician, value="7.5")
    corrected = record(run, reading, technician, value="8.1")

    assert again.pk == first.pk == corrected.pk
    assert requests_of(run).count() == 1
    assert WorkOrder.objects.count() == 1
    assert corrected.value == Decimal("8.1")


def test_a_failed_check_raises_a_request_and_passing_it_later_keeps_that_request(walk, technician):
    run, check, _ = walk

    failed = record(run, check, technician, passed=False, note="Drip at the seal")
    passed = record(run, check, technician, passed=True)

    assert failed.work_order is not None
    assert passed.work_order_id == failed.work_order_id
    assert passed.out_of_limits is False
    assert WorkOrder.objects.count() == 1


def test_a_good_reading_corrected_out_of_limits_raises_the_request_then(walk, technician):
    run, _, reading = walk

    record(run, reading, technician, value="4")
    assert WorkOrder.objects.count() == 0

    record(run, reading, technician, value="9")
    assert WorkOrder.objects.count() == 1


@pytest.mark.postgresql(reason="SQLite locks the whole database for writers")
@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_of_one_out_of_limits_reading_raise_exactly_one_request():
    site = SiteFactory(timezone=BERLIN)
    pump = AssetFactory(site=site)
    meter = MeterFactory(asset=pump, code="pressure", unit="bar", cumulative=False)
    technician = TechnicianFactory(sites=[site])
    route, _, reading = inspection_route(site, pump, meter=meter)
    run = round_run(route)
    at_once(lambda: record(run, reading, technician, value="9.9"), 4)

    assert RoundResult.objects.count() == 1
    assert WorkOrder.objects.count() == 1
    assert MeterReading.objects.filter(meter=meter).count() == 1
    assert RoundResult.objects.get().work_order_id == WorkOrder.objects.get().pk


# --------------------------------------------------------------------------- meters


def test_a_reading_feeds_its_meter_once(walk, technician, pressure):
    run, _, reading = walk

    record(run, reading, technician, value="4.2")
    record(run, reading, technician, value="4.2")

    assert list(pressure.readings.values_list("value", "recorded_by")) == [
        (Decimal("4.200"), technician.pk)
    ]


def test_a_corrected_reading_replaces_the_meter_reading_at_the_same_time(
    walk, technician, pressure
):
    run, _, reading = walk
    first = record(run, reading, technician, value="4.2").meter_reading

    later = first.observed_at + timedelta(minutes=3)
    corrected = record(run, reading, technician, value="4.4", now=later).meter_reading

    assert list(pressure.readings.values_list("value", flat=True)) == [Decimal("4.400")]
    assert corrected.observed_at == first.observed_at


def test_a_reading_a_cumulative_meter_refuses_is_refused_whole(site, pump, technician):
    hours = MeterFactory(asset=pump, code="hours", unit="h", cumulative=True)
    route, _, reading = inspection_route(site, pump, meter=hours)
    reading.low = reading.high = None
    reading.save()
    MeterReading.objects.create(meter=hours, value=100, observed_at=local(BERLIN, 2020, 1, 1))
    run = round_run(route)

    with pytest.raises(ValidationError):
        record(run, reading, technician, value="50")

    assert not RoundResult.objects.exists()
    assert RoundRun.objects.get().status == RunStatus.SCHEDULED


# --------------------------------------------------------------------------- the run


def test_the_first_result_starts_the_run_and_completion_needs_every_check(walk, technician):
    run, check, reading = walk

    record(run, check, technician, passed=True)
    run.refresh_from_db()
    assert (run.status, run.started_by) == (RunStatus.IN_PROGRESS, technician)

    with pytest.raises(ValidationError) as refused:
        round_run_complete(run=run, by=technician)
    assert "1 check(s)" in refused.value.message_dict["results"][0]

    record(run, reading, technician, value="3")
    done = round_run_complete(run=run, by=technician)
    again = round_run_complete(run=run, by=technician)
    assert done.status == again.status == RunStatus.COMPLETED
    assert again.completed_at == done.completed_at


def test_a_completed_run_answers_a_repeat_but_refuses_a_change(walk, technician):
    run, check, reading = walk
    record(run, check, technician, passed=True)
    record(run, reading, technician, value="3")
    round_run_complete(run=run, by=technician)

    assert record(run, reading, technician, value="3").value == Decimal("3")
    with pytest.raises(ConflictError) as refused:
        record(run, reading, technician, value="3.5")
    assert refused.value.code == "round_closed"


def test_a_check_of_another_route_is_refused(walk, technician, site, pump):
    run, _, _ = walk
    _, foreign_check, _ = inspection_route(site, pump)

    with pytest.raises(ValidationError):
        record(run, foreign_check, technician, passed=True)


# --------------------------------------------------------------------------- scoping


def test_a_technician_of_another_site_may_not_walk_the_round(walk, other_site):
    run, check, _ = walk
    stranger = TechnicianFactory(sites=[other_site])

    with pytest.raises(NotPermitted):
        record(run, check, stranger, passed=True)


def test_a_customer_viewer_does_not_walk_rounds(walk, viewer):
    run, check, _ = walk

    with pytest.raises(NotPermitted):
        record(run, check, viewer, passed=True)
    with pytest.raises(NotPermitted):
        round_run_complete(run=run, by=viewer)


# --------------------------------------------------------------------------- compliance


def test_route_compliance_counts_runs_completed_within_the_grace_per_site():
    north = SiteFactory(name="North", timezone=BERLIN)
    south = SiteFactory(name="South", timezone=BERLIN)
    r_north, _, _ = inspection_route(north, AssetFactory(site=north), grace_hours=2)
    r_south, _, _ = inspection_route(south, AssetFactory(site=south), grace_hours=2)
    day = local(BERLIN, 2025, 6, 2, 8)

    def run(route, days, status=RunStatus.SCHEDULED, completed_after=None):
        due = day + timedelta(days=days)
        completed = due + completed_after if completed_after is not None else None
        return round_run(route, due_at=due, status=status, completed_at=completed)

    run(r_north, 0, RunStatus.COMPLETED, timedelta(hours=2))  # on time: the grace is inclusive
    run(r_north, 1, RunStatus.COMPLETED, timedelta(hours=2, seconds=1))  # late
    run(r_north, 2, RunStatus.MISSED)
    run(r_north, 3, RunStatus.COMPLETED, timedelta(minutes=5))  # on time
    run(r_north, 30, RunStatus.COMPLETED, timedelta(minutes=5))  # outside the period
    run(r_south, 0, RunStatus.COMPLETED, timedelta(minutes=1))

    rows = route_compliance(RoundRun.objects.all(), start=day, end=day + timedelta(days=7))

    assert [(r.site, r.due, r.on_time, r.late, r.missed, r.percent) for r in rows] == [
        ("North", 4, 2, 1, 1, 50.0),
        ("South", 1, 1, 0, 0, 100.0),
    ]


# --------------------------------------------------------------------------- API


def results_url(run):
    return f"/api/v1/round-runs/{run.pk}/results/"


def test_the_api_records_a_result_once_however_often_it_is_posted(walk, technician, as_user):
    run, _, reading = walk
    client = as_user(technician)
    body = {"check": reading.pk, "value": "1.5", "note": "Low"}

    first = client.post(results_url(run), body, format="json")
    again = client.post(results_url(run), body, format="json")

    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert first.json()["out_of_limits"] is True
    assert first.json()["work_order_number"]
    assert WorkOrder.objects.count() == 1

    detail = client.get(f"/api/v1/round-runs/{run.pk}/").json()
    assert detail["status"] == RunStatus.IN_PROGRESS
    assert [r["check"] for r in detail["results"]] == [reading.pk]


def test_an_api_result_replayed_with_its_key_answers_as_the_first_time(walk, technician, as_user):
    run, check, reading = walk
    client = as_user(technician)
    bad = {"check": reading.pk, "value": "8.5"}

    first = client.post(results_url(run), bad, format="json", HTTP_IDEMPOTENCY_KEY="q-1")
    client.post(results_url(run), {"check": reading.pk, "value": "9"}, format="json")
    replayed = client.post(results_url(run), bad, format="json", HTTP_IDEMPOTENCY_KEY="q-1")
    client.post(results_url(run), {"check": check.pk, "passed": True}, format="json")
    client.post(f"/api/v1/round-runs/{run.pk}/complete/", HTTP_IDEMPOTENCY_KEY="q-2")
    after_completion = client.post(results_url(run), bad, format="json", HTTP_IDEMPOTENCY_KEY="q-1")
    done_again = client.post(f"/api/v1/round-runs/{run.pk}/complete/", HTTP_IDEMPOTENCY_KEY="q-2")
    late = client.post(results_url(run), bad, format="json", HTTP_IDEMPOTENCY_KEY="q-3")

    assert first.status_code == replayed.status_code == after_completion.status_code == 200
    assert replayed.json() == after_completion.json() == first.json()
    assert replayed["Idempotent-Replayed"] == "true"
    assert done_again.status_code == 200 and done_again["Idempotent-Replayed"] == "true"
    assert late.status_code == 409 and late.json()["code"] == "round_closed"
    assert RoundResult.objects.get(route_check=reading).value == Decimal("9")
    assert WorkOrder.objects.count() == 1


def test_the_api_refuses_bad_answers_with_400(walk, technician, as_user):
    run, check, reading = walk
    client = as_user(technician)

    for body in (
        {"check": reading.pk, "value": "NaN"},
        {"check": reading.pk},
        {"check": check.pk, "value": "3"},
        {"check": 999_999_999},
        {"check": "x"},
    ):
        response = client.post(results_url(run), body, format="json")
        assert response.status_code == 400, body
    assert not RoundResult.objects.exists()


def test_the_api_completes_a_run_and_then_answers_changes_with_409(walk, technician, as_user):
    run, check, reading = walk
    client = as_user(technician)
    client.post(results_url(run), {"check": check.pk, "passed": True}, format="json")
    client.post(results_url(run), {"check": reading.pk, "value": "4"}, format="json")

    done = client.post(f"/api/v1/round-runs/{run.pk}/complete/")
    again = client.post(f"/api/v1/round-runs/{run.pk}/complete/")
    change = client.post(results_url(run), {"check": reading.pk, "value": "5"}, format="json")

    assert done.status_code == again.status_code == 200
    assert done.json()["status"] == RunStatus.COMPLETED
    assert change.status_code == 409
    assert change.json()["code"] == "round_closed"


def test_the_api_shows_rounds_of_the_users_sites_only(walk, as_user, other_site):
    run, check, _ = walk
    stranger = TechnicianFactory(sites=[other_site])
    client = as_user(stranger)

    assert client.get("/api/v1/round-runs/").json()["count"] == 0
    assert client.get("/api/v1/routes/").json()["count"] == 0
    response = client.post(results_url(run), {"check": check.pk, "passed": True}, format="json")
    assert response.status_code == 404


def test_customer_viewers_read_rounds_but_do_not_record(walk, viewer, as_user):
    run, check, _ = walk
    client = as_user(viewer)

    assert client.get(f"/api/v1/round-runs/{run.pk}/").status_code == 200
    response = client.post(results_url(run), {"check": check.pk, "passed": True}, format="json")
    assert response.status_code == 403


def test_a_route_lists_its_points_and_checks_in_walking_order(walk, planner, as_user):
    run, check, reading = walk

    route = as_user(planner).get(f"/api/v1/routes/{run.route_id}/").json()

    point = route["points"][0]
    assert point["asset_tag"] == "P-101"
    assert [c["id"] for c in point["checks"]] == [check.pk, reading.pk]
    assert point["checks"][1]["low"] == "2.000"


def test_the_dashboard_shows_route_compliance_of_the_planners_sites_only(
    client_for, planner, site, pump, other_site
):
    route, _, _ = inspection_route(site, pump, grace_hours=1)
    foreign, _, _ = inspection_route(other_site, AssetFactory(site=other_site))
    now = local(BERLIN, 2025, 6, 10, 12)
    due = now - timedelta(hours=5)
    round_run(route, due_at=due, status=RunStatus.COMPLETED, completed_at=due)
    round_run(route, due_at=due - timedelta(days=1), status=RunStatus.MISSED)
    round_run(foreign, due_at=due, status=RunStatus.MISSED)

    with time_machine.travel(now, tick=False):
        page = client_for(planner).get(reverse("admin:planner-dashboard")).content.decode()

    section = page[page.index('id="route-compliance"') :]
    section = section[: section.index("</section>")]
    assert "Route compliance: 50.0 %" in section
    assert "North plant" in section and "South plant" not in section
