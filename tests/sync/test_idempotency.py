"""Idempotency-Key on the work order API: a retry is answered, never applied, a second time."""

import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from assets.models import StockMovement
from assets.services import stock_receive
from sync.models import IdempotencyKey
from sync.tasks import purge_idempotency_keys
from tests.factories import UserFactory, WorkOrderFactory, move_to
from workorders import services
from workorders.choices import EventKind, Status
from workorders.models import LabourEntry, StatusChange, WorkOrder, WorkOrderEvent

pytestmark = pytest.mark.django_db


def url(work_order, action=""):
    path = f"/api/v1/work-orders/{work_order.pk}/"
    return f"{path}{action}/" if action else path


def post(client, path, body, key=None):
    extra = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    return client.post(path, body, format="json", **extra)


def logged(work_order=None):
    """Labour entries with hours (starting work opens a timer entry of its own)."""
    entries = LabourEntry.objects.filter(hours__gt=0)
    return entries.filter(work_order=work_order) if work_order else entries


def assert_replayed(first, again):
    assert again.status_code == first.status_code
    assert again.content == first.content
    assert again["Content-Type"] == first["Content-Type"]
    assert again.get("Location") == first.get("Location")
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first


@pytest.fixture
def running(site, technician):
    return move_to(WorkOrderFactory(site=site, assignee=technician), Status.IN_PROGRESS)


# ---------------------------------------------------------------- replays


def test_a_replayed_labour_entry_is_answered_again_and_recorded_once(as_user, technician, running):
    client = as_user(technician)
    first = post(client, url(running, "labour"), {"hours": "1.5"}, key="k-labour")
    again = post(client, url(running, "labour"), {"hours": "1.5"}, key="k-labour")

    assert first.status_code == 201
    assert_replayed(first, again)
    assert logged(running).count() == 1


def test_a_replayed_part_issue_moves_the_stock_once(as_user, technician, running, stock):
    client = as_user(technician)
    body = {"stock": stock.pk, "quantity": "2"}
    first = post(client, url(running, "issue-part"), body, key="k-part")
    again = post(client, url(running, "issue-part"), body, key="k-part")

    assert first.status_code == 201
    assert_replayed(first, again)
    stock.refresh_from_db()
    assert stock.on_hand == Decimal("3")
    assert StockMovement.objects.filter(stock=stock).count() == 1


def test_a_replayed_transition_is_recorded_once(as_user, technician, site):
    work = move_to(WorkOrderFactory(site=site, assignee=technician), Status.SCHEDULED)
    client = as_user(technician)
    before = StatusChange.objects.filter(work_order=work).count()

    first = post(client, url(work, "transition"), {"to": "in_progress"}, key="k-start")
    again = post(client, url(work, "transition"), {"to": "in_progress"}, key="k-start")

    assert first.status_code == 200, first.data
    assert_replayed(first, again)
    assert StatusChange.objects.filter(work_order=work).count() == before + 1


def test_a_note_is_added_once_however_often_it_is_sent(as_user, technician, running):
    client = as_user(technician)
    first = post(client, url(running, "notes"), {"message": " Seal replaced "}, key="k-note")
    again = post(client, url(running, "notes"), {"message": " Seal replaced "}, key="k-note")

    assert first.status_code == 201
    assert set(first.data) == {"id", "message", "created_by", "created_at"}
    assert first.data["message"] == "Seal replaced"
    assert first.data["created_by"] == technician.pk
    assert_replayed(first, again)
    notes = WorkOrderEvent.objects.filter(work_order=running, kind=EventKind.NOTE)
    assert [n.message for n in notes] == ["Seal replaced"]


def test_a_replayed_creation_creates_one_work_order(as_user, planner, site):
    client = as_user(planner)
    body = {"site": site.pk, "title": "Pump 3 leaks", "priority": 2}
    first = post(client, "/api/v1/work-orders/", body, key="k-create")
    again = post(client, "/api/v1/work-orders/", body, key="k-create")

    assert first.status_code == 201, first.data
    assert_replayed(first, again)
    assert WorkOrder.objects.filter(title="Pump 3 leaks").count() == 1


def test_a_replayed_step_is_ticked_once(as_user, technician, site):
    work = move_to(
        WorkOrderFactory(site=site, assignee=technician, steps=["Lock out"]), Status.IN_PROGRESS
    )
    step = work.steps.get()
    client = as_user(technician)
    first = post(client, url(work, f"steps/{step.pk}"), {"result": "done"}, key="k-step")
    again = post(client, url(work, f"steps/{step.pk}"), {"result": "done"}, key="k-step")

    assert first.status_code == 200
    assert_replayed(first, again)


def test_the_key_may_be_sent_in_the_drafts_quoted_form(as_user, technician, running):
    client = as_user(technician)
    first = post(client, url(running, "labour"), {"hours": "1"}, key="abc-1")
    again = post(client, url(running, "labour"), {"hours": "1"}, key='"abc-1"')

    assert_replayed(first, again)
    assert logged(running).count() == 1


# ---------------------------------------------------------------- refusals


def test_a_refused_transition_is_replayed_as_refused_after_the_state_allows_it(
    as_user, technician, site
):
    work = move_to(WorkOrderFactory(site=site, assignee=technician), Status.APPROVED)
    client = as_user(technician)
    first = post(client, url(work, "transition"), {"to": "in_progress"}, key="k-early")
    assert first.status_code == 409
    assert first.json()["code"] == "illegal_transition"

    move_to(work, Status.SCHEDULED)  # now the technician could start it
    again = post(client, url(work, "transition"), {"to": "in_progress"}, key="k-early")

    assert_replayed(first, again)
    work.refresh_from_db()
    assert work.status == Status.SCHEDULED
    fresh = post(client, url(work, "transition"), {"to": "in_progress"}, key="k-later")
    assert fresh.status_code == 200


def test_an_insufficient_stock_refusal_is_replayed_after_a_receipt(
    as_user, technician, running, stock
):
    client = as_user(technician)
    body = {"stock": stock.pk, "quantity": "8"}
    first = post(client, url(running, "issue-part"), body, key="k-short")
    assert first.status_code == 409
    assert first.json()["code"] == "insufficient_stock"

    stock_receive(stock=stock, quantity=Decimal("10"))
    again = post(client, url(running, "issue-part"), body, key="k-short")

    assert_replayed(first, again)
    stock.refresh_from_db()
    assert stock.on_hand == Decimal("15")
    assert not StockMovement.objects.filter(stock=stock, work_order=running).exists()


def test_an_invalid_body_is_replayed_as_the_same_400(as_user, technician, running):
    client = as_user(technician)
    first = post(client, url(running, "labour"), {"hours": "0"}, key="k-zero")
    again = post(client, url(running, "labour"), {"hours": "0"}, key="k-zero")

    assert first.status_code == 400
    assert "hours" in first.json()
    assert_replayed(first, again)


def test_the_same_key_with_another_request_is_422(as_user, technician, running):
    client = as_user(technician)
    assert post(client, url(running, "labour"), {"hours": "1"}, key="k-once").status_code == 201

    other_body = post(client, url(running, "labour"), {"hours": "2"}, key="k-once")
    other_path = post(client, url(running, "notes"), {"message": "x"}, key="k-once")

    for answer in (other_body, other_path):
        assert answer.status_code == 422
        assert answer.json()["code"] == "idempotency_key_reused"
        assert set(answer.json()) == {"detail", "code"}
    assert logged(running).count() == 1
    assert not WorkOrderEvent.objects.filter(work_order=running, kind=EventKind.NOTE).exists()


def test_keys_belong_to_their_user(as_user, technician, colleague, running):
    services.work_order_assign(work_order=running, assignee=None)
    first = post(as_user(technician), url(running, "labour"), {"hours": "1"}, key="shared")
    second = post(as_user(colleague), url(running, "labour"), {"hours": "1"}, key="shared")

    assert first.status_code == second.status_code == 201
    assert "Idempotent-Replayed" not in second
    assert logged(running).count() == 2


@pytest.mark.parametrize("bad", ["", "x" * 256, "naïve", "tab\there", '""'])
def test_a_malformed_key_is_a_400_naming_the_header(as_user, technician, running, bad):
    answer = post(as_user(technician), url(running, "labour"), {"hours": "1"}, key=bad)

    assert answer.status_code == 400
    assert list(answer.json()) == ["Idempotency-Key"]
    assert not logged().exists()
    assert not IdempotencyKey.objects.exists()


def test_without_the_header_every_request_is_applied(as_user, technician, running):
    client = as_user(technician)
    first = post(client, url(running, "labour"), {"hours": "1"})
    second = post(client, url(running, "labour"), {"hours": "1"})

    assert first.status_code == second.status_code == 201
    assert "Idempotent-Replayed" not in second
    assert logged(running).count() == 2
    assert not IdempotencyKey.objects.exists()


def test_a_crash_inside_the_action_keeps_neither_its_effects_nor_the_key(
    as_user, technician, running, monkeypatch
):
    real_labour_add = services.labour_add

    def crash(**kwargs):
        real_labour_add(**kwargs)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services, "labour_add", crash)
    client = as_user(technician)
    with pytest.raises(RuntimeError):
        post(client, url(running, "labour"), {"hours": "1"}, key="k-crash")

    assert not IdempotencyKey.objects.exists()
    assert not logged().exists()
    monkeypatch.setattr(services, "labour_add", real_labour_add)
    retry = post(client, url(running, "labour"), {"hours": "1"}, key="k-crash")
    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry
    assert logged().count() == 1


# ---------------------------------------------------------------- concurrency


@pytest.mark.postgresql(reason="the retry waits on the first request's unique index entry")
@pytest.mark.django_db(transaction=True)
def test_two_requests_with_one_key_at_once_record_one_entry_and_answer_alike(
    site, technician, monkeypatch
):
    """Two real connections send the same key together; the first holds its transaction open
    a while, so the second is inside its INSERT, waiting, when the first commits."""
    running = move_to(WorkOrderFactory(site=site, assignee=technician), Status.IN_PROGRESS)
    real_labour_add = services.labour_add

    def slow_labour_add(**kwargs):
        entry = real_labour_add(**kwargs)
        time.sleep(0.5)
        return entry

    monkeypatch.setattr(services, "labour_add", slow_labour_add)
    barrier = threading.Barrier(2)
    answers = []
    lock = threading.Lock()

    def send():
        client = APIClient()
        client.force_authenticate(technician)
        try:
            barrier.wait()
            answer = post(client, url(running, "labour"), {"hours": "1"}, key="k-race")
        finally:
            connection.close()
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert logged(running).count() == 1
    first, second = sorted(answers, key=lambda a: "Idempotent-Replayed" in a)
    assert first.status_code == 201
    assert_replayed(first, second)


@pytest.mark.postgresql(reason="the retry waits on the first request's unique index entry")
@pytest.mark.django_db(transaction=True)
def test_a_request_waiting_on_a_key_runs_when_the_first_crashes(site, technician, monkeypatch):
    """The first request holds the key, then fails with a 500: the one waiting behind it is
    applied (the key went with the rollback), not answered with a replay."""
    running = move_to(WorkOrderFactory(site=site, assignee=technician), Status.IN_PROGRESS)
    real_labour_add = services.labour_add
    calls = []
    lock = threading.Lock()

    def first_crashes(**kwargs):
        with lock:
            calls.append(1)
            crash = len(calls) == 1
        entry = real_labour_add(**kwargs)
        if crash:
            time.sleep(0.5)
            raise RuntimeError("lost the disk")
        return entry

    monkeypatch.setattr(services, "labour_add", first_crashes)
    barrier = threading.Barrier(2)
    outcomes = []

    def send():
        # The test client re-raises any request's exception (a global signal): answer instead.
        client = APIClient(raise_request_exception=False)
        client.force_authenticate(technician)
        try:
            barrier.wait()
            answer = post(client, url(running, "labour"), {"hours": "1"}, key="k-crash-race")
        finally:
            connection.close()
        with lock:
            outcomes.append(answer)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(answer.status_code for answer in outcomes) == [201, 500]
    assert not any("Idempotent-Replayed" in answer for answer in outcomes)
    assert logged(running).count() == 1
    assert IdempotencyKey.objects.filter(key="k-crash-race").count() == 1


# ---------------------------------------------------------------- retention


def test_the_purge_deletes_keys_older_than_the_retention(settings, technician, running):
    settings.IDEMPOTENCY_KEY_TTL_HOURS = 24
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for n in range(3):
            IdempotencyKey.objects.create(
                user=technician, key=f"old-{n}", method="POST", path="/x/", fingerprint="f"
            )
    with time_machine.travel(start + timedelta(hours=20), tick=False):
        IdempotencyKey.objects.create(
            user=technician, key="recent", method="POST", path="/x/", fingerprint="f"
        )

    with time_machine.travel(start + timedelta(hours=23), tick=False):
        assert purge_idempotency_keys() == 0
    with time_machine.travel(start + timedelta(hours=25), tick=False):
        assert purge_idempotency_keys() == 3

    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["recent"]


def test_the_purge_deletes_in_bounded_batches(settings, technician):
    from sync.services import idempotency_keys_purge

    settings.IDEMPOTENCY_KEY_TTL_HOURS = 1
    old = timezone.now() - timedelta(hours=2)
    IdempotencyKey.objects.bulk_create(
        IdempotencyKey(
            user=technician, key=f"k{n}", method="POST", path="/", fingerprint="f", created_at=old
        )
        for n in range(5)
    )

    assert idempotency_keys_purge(batch=2) == 5
    assert not IdempotencyKey.objects.exists()


def test_deleting_a_user_deletes_their_keys(technician):
    other = UserFactory()
    IdempotencyKey.objects.create(user=other, key="k", method="POST", path="/", fingerprint="f")
    other.delete()
    assert not IdempotencyKey.objects.exists()


# ---------------------------------------------------------------- fingerprints


def drf_fingerprint(rf, *args, **kwargs):
    from rest_framework.parsers import JSONParser, MultiPartParser
    from rest_framework.request import Request

    from sync.idempotency import _drf_form, fingerprint_of

    request = Request(rf.post(*args, **kwargs), parsers=[JSONParser(), MultiPartParser()])
    request.data  # noqa: B018 - parsed before the fingerprint, as a permission check might
    return fingerprint_of(request._request, lambda: _drf_form(request))


def test_a_body_parsed_before_the_fingerprint_still_tells_requests_apart(rf):
    one = drf_fingerprint(rf, "/x/", {"hours": "1"}, content_type="application/json")
    same = drf_fingerprint(rf, "/x/", {"hours": "1"}, content_type="application/json")
    two = drf_fingerprint(rf, "/x/", {"hours": "2"}, content_type="application/json")

    assert one == same != two


def test_a_multipart_fingerprint_covers_the_files_bytes(rf):
    from django.core.files.uploadedfile import SimpleUploadedFile

    def fingerprint(content):
        return drf_fingerprint(rf, "/x/", {"image": SimpleUploadedFile("a.png", content)})

    assert fingerprint(b"one") == fingerprint(b"one") != fingerprint(b"two")
