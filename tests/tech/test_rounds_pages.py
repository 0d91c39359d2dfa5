import re
from decimal import Decimal

import pytest

from pm.choices import RunStatus
from pm.models import RoundResult
from tests.factories import MeterFactory, TechnicianFactory, inspection_route, round_run
from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db


@pytest.fixture
def walk(site, pump):
    meter = MeterFactory(asset=pump, code="pressure", unit="bar", cumulative=False)
    route, check, reading = inspection_route(site, pump, meter=meter, name="Pump house walk")
    return round_run(route), check, reading


def result_url(run, check):
    return f"/tech/rounds/{run.pk}/checks/{check.pk}/"


def test_my_work_lists_todays_rounds_with_their_progress(client_for, technician, walk):
    run, _, _ = walk

    html = client_for(technician).get("/tech/").content.decode()

    assert f'href="/tech/rounds/{run.pk}/"' in html
    assert "Pump house walk" in html
    assert "0/2 checks" in html


def test_the_round_page_shows_points_in_order_with_limits_and_inputs(client_for, technician, walk):
    run, _, reading = walk

    response = client_for(technician).get(f"/tech/rounds/{run.pk}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "P-101" in html and "Cooling water pump" in html
    assert "good: 2.000 to 6.000 bar" in html
    assert f'action="{result_url(run, reading)}"' in html
    assert 'aria-label="Pass: No leaks"' in html and 'aria-label="Fail: No leaks"' in html
    assert 'aria-label="Reading for Discharge pressure in bar"' in html
    assert html.index("No leaks") < html.index("Discharge pressure")


def test_walking_a_round_with_one_out_of_limits_reading_raises_one_request(
    client_for, technician, walk
):
    run, check, reading = walk
    client = client_for(technician)

    for _ in range(2):  # a repeated submission (a double tap, a replayed queue)
        response = client.post(result_url(run, reading), {"value": "8.2", "note": "Gauge high"})
        assert response.status_code == 302
        assert response["Location"].endswith(f"#check-{reading.pk}")
    client.post(result_url(run, check), {"passed": "pass"})
    done = client.post(f"/tech/rounds/{run.pk}/complete/")

    assert done.status_code == 302
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED
    assert WorkOrder.objects.count() == 1
    assert reading.meter.readings.count() == 1
    page = client.get(f"/tech/rounds/{run.pk}/").content.decode()
    assert WorkOrder.objects.get().number in page
    assert "out of limits" in page


def test_the_round_forms_are_queued_offline_under_the_rounds_name(client_for, technician, walk):
    run, _, _ = walk
    code = run.route.code

    html = client_for(technician).get(f"/tech/rounds/{run.pk}/").content.decode()

    assert f'data-round="{code}"' in html
    assert f'data-queue="round-result" data-queue-label="Round {code}: No leaks"' in html
    assert f'data-queue="round-result" data-queue-label="Round {code}: Discharge pressure"' in html
    assert f'data-queue="round-complete" data-queue-label="Complete round {code}"' in html


def test_a_reading_that_is_no_number_is_refused_on_its_field(client_for, technician, walk):
    run, _, reading = walk

    response = client_for(technician).post(result_url(run, reading), {"value": "lots"})

    assert response.status_code == 400
    html = response.content.decode()
    field = re.search(rf'<input id="check{reading.pk}-value"[^>]*>', html).group(0)
    assert f'aria-describedby="check{reading.pk}-value-error"' in field
    assert not RoundResult.objects.exists()


def test_a_missing_answer_is_refused_with_400(client_for, technician, walk):
    run, check, _ = walk

    response = client_for(technician).post(result_url(run, check), {"note": "?"})

    assert response.status_code == 400
    assert "Say whether" in response.content.decode()


def test_completing_too_early_says_what_is_missing(client_for, technician, walk):
    run, _, _ = walk

    response = client_for(technician).post(f"/tech/rounds/{run.pk}/complete/")

    assert response.status_code == 400
    assert "2 check(s) have no result yet" in response.content.decode()


def test_a_round_of_another_site_is_not_found(client_for, walk, other_site):
    run, check, _ = walk
    stranger = client_for(TechnicianFactory(sites=[other_site]))

    assert stranger.get(f"/tech/rounds/{run.pk}/").status_code == 404
    assert stranger.post(result_url(run, check), {"passed": "pass"}).status_code == 404
    assert "Pump house walk" not in stranger.get("/tech/").content.decode()


def test_a_customer_viewer_sees_no_forms_and_may_not_record(client_for, viewer, walk):
    run, check, _ = walk
    client = client_for(viewer)

    html = client.get(f"/tech/rounds/{run.pk}/").content.decode()
    assert '<form method="post" action="/tech/rounds/' not in html
    assert client.post(result_url(run, check), {"passed": "pass"}).status_code == 403
    assert not RoundResult.objects.exists()


def test_a_completed_round_shows_no_forms(client_for, technician, walk):
    run, _, _ = walk
    run.status = RunStatus.COMPLETED
    run.save()

    html = client_for(technician).get(f"/tech/rounds/{run.pk}/").content.decode()

    assert "Complete the round" not in html
    assert "/checks/" not in html


def test_my_work_lists_only_rounds_i_may_walk(client_for, technician, colleague, site, pump):
    from tests.factories import SkillFactory

    mine, _, _ = inspection_route(site, pump, name="Mine", assignee=technician)
    theirs, _, _ = inspection_route(site, pump, name="Carls walk")
    electrical, _, _ = inspection_route(
        site, pump, name="Switchgear walk", required_skill=SkillFactory(code="electrical")
    )
    round_run(mine)
    round_run(theirs, assignee=colleague)
    round_run(electrical)

    html = client_for(technician).get("/tech/").content.decode()

    assert "Mine" in html
    assert "Carls walk" not in html and "Switchgear walk" not in html


# ------------------------------------------------------------------ the offline queue's replays


def test_a_replayed_result_answers_as_the_first_and_records_nothing_more(
    client_for, technician, walk
):
    run, _, reading = walk
    client = client_for(technician)
    body = {"value": "8.2", "note": "Gauge high"}

    first = client.post(result_url(run, reading), body, HTTP_IDEMPOTENCY_KEY="r-1")
    replayed = client.post(result_url(run, reading), body, HTTP_IDEMPOTENCY_KEY="r-1")
    # Queued twice (two taps offline): another key, the same answer.
    second_key = client.post(result_url(run, reading), body, HTTP_IDEMPOTENCY_KEY="r-2")

    assert first.status_code == replayed.status_code == second_key.status_code == 302
    assert replayed["Location"] == first["Location"]
    assert replayed["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in second_key
    assert RoundResult.objects.count() == 1
    assert WorkOrder.objects.count() == 1
    assert reading.meter.readings.count() == 1
    assert "8.200 bar" in WorkOrder.objects.get().description


def test_a_bad_reading_recorded_again_with_another_key_raises_no_second_request(
    client_for, technician, walk
):
    run, check, reading = walk
    client = client_for(technician)

    client.post(result_url(run, reading), {"value": "8.2"}, HTTP_IDEMPOTENCY_KEY="r-1")
    client.post(result_url(run, reading), {"value": "9.5"}, HTTP_IDEMPOTENCY_KEY="r-2")
    client.post(result_url(run, check), {"passed": "fail"}, HTTP_IDEMPOTENCY_KEY="c-1")
    client.post(
        result_url(run, check), {"passed": "fail", "note": "Drip"}, HTTP_IDEMPOTENCY_KEY="c-2"
    )

    assert WorkOrder.objects.count() == 2  # one per check, whatever was recorded again
    result = RoundResult.objects.get(route_check=reading)
    assert result.value == Decimal("9.5")
    assert reading.meter.readings.get().value == Decimal("9.5")


def test_a_closed_round_refuses_a_queued_result_with_the_reason_the_queue_shows(
    client_for, technician, walk
):
    run, check, reading = walk
    client = client_for(technician)
    client.post(result_url(run, check), {"passed": "pass"})
    client.post(result_url(run, reading), {"value": "4"})
    client.post(f"/tech/rounds/{run.pk}/complete/")

    change = client.post(result_url(run, reading), {"value": "5"}, HTTP_IDEMPOTENCY_KEY="late")
    replayed = client.post(result_url(run, reading), {"value": "5"}, HTTP_IDEMPOTENCY_KEY="late")

    assert change.status_code == replayed.status_code == 409
    assert error_summary(change) == ["This round is completed."]
    assert replayed.content == change.content
    assert RoundResult.objects.get(route_check=reading).value == Decimal("4")


def test_a_missed_round_refuses_queued_results_and_its_completion(client_for, technician, walk):
    run, check, _ = walk
    run.status = RunStatus.MISSED
    run.save()
    client = client_for(technician)

    result = client.post(result_url(run, check), {"passed": "pass"}, HTTP_IDEMPOTENCY_KEY="k-1")
    done = client.post(f"/tech/rounds/{run.pk}/complete/", HTTP_IDEMPOTENCY_KEY="k-2")

    assert result.status_code == done.status_code == 409
    assert error_summary(result) == error_summary(done) == ["This round is missed."]
    assert not RoundResult.objects.exists()
    run.refresh_from_db()
    assert run.status == RunStatus.MISSED


def error_summary(response) -> list[str]:
    """The page's error summary items, as the offline queue reads them for its reason."""
    html = response.content.decode()
    summary = re.search(r"<div[^>]*data-error-summary[^>]*>(.*?)</div>", html, re.S)
    assert summary, html
    return [item.strip() for item in re.findall(r"<li>(.*?)</li>", summary.group(1), re.S)]
