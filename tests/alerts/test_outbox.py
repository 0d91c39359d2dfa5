import base64
import json
import logging
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from alerts import dispatch, sweeping, tasks
from alerts.choices import AlertStatus
from alerts.models import Alert
from cmms.celery import app as celery_app
from tests.alerts.redis_server import PrivateRedis
from tests.webhooks import alert

# --- enqueue after commit ---------------------------------------------------------------


@pytest.mark.django_db
def test_accepted_alerts_are_enqueued_only_after_commit(hook, django_capture_on_commit_callbacks):
    payload = {"alerts": [alert("a-1"), alert("a-2", asset="P-999"), alert("a-1")]}
    with mock.patch("alerts.services.alerts_dispatch") as enqueue:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            answer = hook.post(payload).json()
        enqueue.assert_not_called()
        for callback in callbacks:
            callback()

    accepted_id = answer["results"][0]["id"]
    enqueue.assert_called_once_with([accepted_id])  # not the unmatched one, not the copy


@pytest.mark.django_db
def test_duplicates_are_not_enqueued_again(hook, django_capture_on_commit_callbacks):
    hook.post(alert("a-1"))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        hook.post(alert("a-1"))

    assert callbacks == []


def test_publishing_stops_at_the_first_broker_error_and_logs_the_count(caplog):
    failing = mock.patch.object(
        tasks.alerts_process, "apply_async", side_effect=[None, OSError("broker down")]
    )
    with failing, caplog.at_level(logging.WARNING, logger="alerts.dispatch"):
        sent = dispatch.alerts_dispatch_chunks(list(range(60)))

    assert sent == 25  # the first chunk of PROCESS_CHUNK alerts
    assert "Could not enqueue 35 of 60 alert(s)" in caplog.text


def test_a_batch_is_enqueued_with_one_message_and_a_single_alert_directly():
    with (
        mock.patch.object(tasks.alert_process, "apply_async") as single,
        mock.patch.object(tasks.alerts_dispatch_chunks, "apply_async") as fan_out,
    ):
        assert dispatch.alerts_dispatch([7]) == 1
        assert dispatch.alerts_dispatch([1, 2, 3]) == 3

    single.assert_called_once_with((7,))
    fan_out.assert_called_once_with(([1, 2, 3],))


def test_an_enqueue_failure_is_logged_and_answers_zero(caplog):
    failing = mock.patch.object(
        tasks.alerts_dispatch_chunks, "apply_async", side_effect=OSError("broker down")
    )
    with failing, caplog.at_level(logging.WARNING, logger="alerts.dispatch"):
        assert dispatch.alerts_dispatch([1, 2]) == 0

    assert "Could not enqueue 2 of 2 alert(s)" in caplog.text
    assert "broker down" in caplog.text


# --- sweeper ----------------------------------------------------------------------------


def _stored(hook, *alert_ids, asset="P-101"):
    hook.post({"alerts": [alert(a, asset=asset) for a in alert_ids]})
    return Alert.objects.filter(alert_id__in=alert_ids)


@pytest.mark.django_db
def test_the_sweeper_enqueues_received_alerts_older_than_the_grace_period_oldest_first(
    hook, django_capture_on_commit_callbacks
):
    _stored(hook, "old-2", "old-1", "fresh")
    now = timezone.now()
    Alert.objects.filter(alert_id="old-1").update(received_at=now - timedelta(minutes=10))
    Alert.objects.filter(alert_id="old-2").update(received_at=now - timedelta(minutes=5))
    ids = dict(Alert.objects.values_list("alert_id", "id"))

    with (
        mock.patch("alerts.sweeping.alerts_dispatch") as enqueue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        claimed = sweeping.alerts_sweep(now=now, grace_seconds=60)

    assert claimed == 2
    enqueue.assert_called_once_with([ids["old-1"], ids["old-2"]])


@pytest.mark.django_db
def test_swept_alerts_are_not_enqueued_again_until_another_grace_period_passed(
    hook, django_capture_on_commit_callbacks
):
    _stored(hook, "a-1")
    now = timezone.now() + timedelta(minutes=5)
    with (
        mock.patch("alerts.sweeping.alerts_dispatch"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert sweeping.alerts_sweep(now=now, grace_seconds=60) == 1
        assert sweeping.alerts_sweep(now=now + timedelta(seconds=30), grace_seconds=60) == 0
        assert sweeping.alerts_sweep(now=now + timedelta(seconds=61), grace_seconds=60) == 1


@pytest.mark.django_db
def test_the_sweeper_retries_failed_alerts_when_due_and_ignores_other_statuses(hook):
    _stored(hook, "failed-due", "failed-later", "processed", "recorded")
    _stored(hook, "unmatched", asset="P-999")
    now = timezone.now() + timedelta(hours=1)
    Alert.objects.filter(alert_id="failed-due").update(
        status=AlertStatus.FAILED, next_attempt_at=now - timedelta(seconds=1)
    )
    Alert.objects.filter(alert_id="failed-later").update(
        status=AlertStatus.FAILED, next_attempt_at=now + timedelta(minutes=1)
    )
    Alert.objects.filter(alert_id="processed").update(status=AlertStatus.PROCESSED)
    Alert.objects.filter(alert_id="recorded").update(status=AlertStatus.RECORDED)

    with mock.patch("alerts.sweeping.transaction.on_commit") as on_commit:
        assert sweeping.alerts_sweep(now=now) == 1

    swept = on_commit.call_args.args[0].args[0]
    assert swept == [Alert.objects.get(alert_id="failed-due").pk]


@pytest.mark.django_db
def test_the_sweeper_claims_a_bounded_batch(hook):
    _stored(hook, *[f"a-{i}" for i in range(5)])
    with mock.patch("alerts.sweeping.transaction.on_commit"):
        assert sweeping.alerts_sweep(now=timezone.now() + timedelta(hours=1), limit=3) == 3


@pytest.mark.django_db
def test_the_sweep_task_runs_batches_until_the_outbox_is_drained(hook, settings):
    settings.ALERT_SWEEP_BATCH_SIZE = 2
    settings.ALERT_SWEEP_GRACE_SECONDS = 1
    _stored(hook, *[f"a-{i}" for i in range(5)])
    Alert.objects.update(received_at=timezone.now() - timedelta(minutes=1))

    with mock.patch("alerts.sweeping.transaction.on_commit"):
        assert tasks.alerts_sweep() == 5


def test_beat_runs_the_sweeper_and_routes_tasks_to_their_queues(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE["alerts-sweep"]
    assert schedule["task"] == "alerts.tasks.sweep_alerts"
    assert celery_app.amqp.router.route({}, "alerts.tasks.process_alert")["queue"].name == (
        "alerts"
    )
    assert celery_app.amqp.router.route({}, "alerts.tasks.process_alerts")["queue"].name == (
        "alerts"
    )
    assert celery_app.amqp.router.route({}, "alerts.tasks.sweep_alerts")["queue"].name == (
        "housekeeping"
    )


# --- a real broker that goes away -------------------------------------------------------


@pytest.fixture
def private_broker():
    """Celery publishing to a private redis-server that the test may stop and start."""
    server = PrivateRedis()
    server.start()
    saved = (celery_app.conf.broker_url, celery_app.conf.task_always_eager)
    celery_app.conf.broker_url = server.url
    celery_app.conf.task_always_eager = False
    _reset_pools()
    try:
        yield server
    finally:
        server.stop()
        celery_app.conf.broker_url, celery_app.conf.task_always_eager = saved
        _reset_pools()


def _reset_pools():
    """The app's pools and kombu's process-wide registry of them (tests.workers)."""
    from tests.workers import drop_broker_connections

    drop_broker_connections()


def _queued(server) -> list[tuple[str, list]]:
    """(task name, args) of the messages waiting on the "alerts" queue, oldest first."""
    messages = []
    for raw in reversed(server.client().lrange("alerts", 0, -1)):
        message = json.loads(raw)
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        messages.append((message["headers"]["task"], args))
    return messages


def _queued_alert_ids(server) -> list[int]:
    ids = []
    for task, args in _queued(server):
        if task in ("alerts.tasks.enqueue_alerts", "alerts.tasks.process_alerts"):
            ids.extend(args[0])
        else:
            assert task == "alerts.tasks.process_alert"
            ids.extend(args)
    return sorted(ids)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_with_the_broker_up_accepted_alerts_land_on_the_alerts_queue(hook, private_broker):
    single = hook.post(alert("a-0")).json()["results"][0]["id"]
    batch = [r["id"] for r in hook.post({"alerts": [alert("a-1"), alert("a-2")]}).json()["results"]]

    assert _queued(private_broker) == [
        ("alerts.tasks.process_alert", [single]),
        ("alerts.tasks.enqueue_alerts", [batch]),
    ]


@pytest.mark.slow
def test_the_fan_out_task_publishes_chunks_of_alerts(private_broker):
    ids = list(range(1, 61))
    assert tasks.alerts_dispatch_chunks(ids) == 60

    assert _queued(private_broker) == [
        ("alerts.tasks.process_alerts", [ids[:25]]),
        ("alerts.tasks.process_alerts", [ids[25:50]]),
        ("alerts.tasks.process_alerts", [ids[50:]]),
    ]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_alerts_are_accepted_while_redis_is_down_and_swept_once_it_is_back(
    hook, private_broker, caplog
):
    private_broker.stop()

    with caplog.at_level(logging.WARNING, logger="alerts.dispatch"):
        response = hook.post({"alerts": [alert("a-1"), alert("a-2"), alert("a-3")]})

    assert response.status_code == 202
    assert response.json()["accepted"] == 3
    assert set(Alert.objects.values_list("status", flat=True)) == {AlertStatus.RECEIVED}
    assert "Could not enqueue 3 of 3 alert(s)" in caplog.text

    private_broker.start()
    assert _queued_alert_ids(private_broker) == []
    claimed = sweeping.alerts_sweep(now=timezone.now() + timedelta(minutes=2))

    assert claimed == 3
    assert _queued_alert_ids(private_broker) == sorted(Alert.objects.values_list("id", flat=True))
